"""`--log-to` checks its tracker once, quickly, before anything is written: a tracker that does not
answer, an unknown scheme or a folder that cannot hold the runs is one line (exit 2) naming the URI,
its password masked, and the fix. No network: closed local ports and servers on 127.0.0.1 only."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hostile import assert_one_line
from tests.search.test_integrations import needs

PASSWORD = "s3cr3tPW"


def search_logged(cli, tiny_spec: Path, monkeypatch: pytest.MonkeyPatch, uri: str, *extra: str):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return cli(*extra, "search", str(tiny_spec), "--log-to", "mlflow")


def refused_before_the_study(result, workdir: Path, needle: str) -> str:
    line = assert_one_line(result, needle)
    assert PASSWORD not in result.err + result.out
    assert not (workdir / "results" / "lstmexp.db").exists()  # checked before the study was created
    return line


@needs("mlflow")
@pytest.mark.parametrize("uri", [
    f"http://user:{PASSWORD}@127.0.0.1:1/",
    "https://127.0.0.1:1",
    f"http://user:{PASSWORD}@127.0.0.1:1/behind/a/prefix",
    f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/mlflow",
    f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:1/mlflow",
])
def test_a_tracker_on_a_closed_port_is_one_line_naming_the_masked_uri(cli, tiny_spec, workdir, monkeypatch, uri):
    line = refused_before_the_study(search_logged(cli, tiny_spec, monkeypatch, uri), workdir, "does not answer")
    assert "127.0.0.1:1" in line and "unset MLFLOW_TRACKING_URI" in line and "drop --log-to mlflow" in line
    if PASSWORD in uri:
        assert ":***@127.0.0.1:1" in line


@needs("mlflow")
@pytest.mark.parametrize("uri", ["bogus://x/y", f"bogus://u:{PASSWORD}@host/x", "s3://bucket/runs", "postgres://h/db",
                                 "ftp://127.0.0.1/x"])
def test_an_unsupported_scheme_is_one_line_naming_the_supported_ones(cli, tiny_spec, workdir, monkeypatch, uri):
    line = refused_before_the_study(search_logged(cli, tiny_spec, monkeypatch, uri), workdir, "cannot track in")
    assert "http(s)://" in line and "sqlite:///" in line and "postgresql://" in line


@needs("mlflow")
def test_the_password_stays_masked_with_debug(cli, tiny_spec, workdir, monkeypatch):
    result = search_logged(cli, tiny_spec, monkeypatch, f"http://me:{PASSWORD}@127.0.0.1:1/", "--debug")
    assert result.code == 2 and PASSWORD not in result.err + result.out
    assert result.err.strip().splitlines()[-1].startswith("error: MLflow tracker http://me:***@127.0.0.1:1/")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) but never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@needs("mlflow")
def test_a_tracker_that_accepts_but_never_answers_is_refused_after_the_short_timeout(
    cli, tiny_spec, workdir, monkeypatch, silent_port
):
    uri = f"http://u:{PASSWORD}@127.0.0.1:{silent_port}/"
    line = refused_before_the_study(search_logged(cli, tiny_spec, monkeypatch, uri), workdir, "no answer within 3 s")
    assert f"127.0.0.1:{silent_port}" in line


class NotServing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # the name http.server calls
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unavailable_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotServing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@needs("mlflow")
def test_a_tracker_that_answers_503_is_refused_instead_of_retried(
    cli, tiny_spec, workdir, monkeypatch, unavailable_server
):
    uri = f"http://127.0.0.1:{unavailable_server}"
    line = refused_before_the_study(search_logged(cli, tiny_spec, monkeypatch, uri), workdir, "answers HTTP 503")
    assert uri in line


@needs("mlflow")
def test_a_store_mlflow_refuses_is_one_line_not_an_internal_error(cli, tiny_spec, workdir, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    uri = (workdir / "mlruns").as_uri()  # MLflow 3 no longer opens a file store unless told to
    result = search_logged(cli, tiny_spec, monkeypatch, uri)
    if result.code == 0:
        pytest.skip("this MLflow still opens file stores")
    refused_before_the_study(result, workdir, f"MLflow cannot log to {uri}")


@needs("tensorboard")
@pytest.mark.parametrize("blocker", ["results", "results/tensorboard", "results/tensorboard/tiny"])
def test_a_tensorboard_folder_that_cannot_be_made_is_one_line_before_the_study(cli, tiny_spec, workdir, blocker):
    (workdir / blocker).parent.mkdir(parents=True, exist_ok=True)
    (workdir / blocker).write_text("a file in the way\n")
    result = cli("search", str(tiny_spec), "--log-to", "tensorboard")
    assert_one_line(result, "--log-to tensorboard cannot make")
    if blocker != "results":
        assert not (workdir / "results" / "lstmexp.db").exists()
