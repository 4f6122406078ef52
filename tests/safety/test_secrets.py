"""Secrets in hostile storage URLs: a password is masked in every error, whatever the URL's form."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from lstmexp.storage.urls import mask_text
from tests.conftest import needs_postgres
from tests.hostile import QUICK_SPEC, assert_one_line, fingerprint

SECRET = "nsecret9z"


@pytest.mark.parametrize("url", [
    f"u:{SECRET}@host/x",
    f"postgresql:/u:{SECRET}@h/d",
    f"postgresql//u:{SECRET}@h/d",
    f"postgresql:u:{SECRET}@h/d",
    f"mysql:/admin:{SECRET}@db.example/x",
    f"sqlite:/user:{SECRET}@x.db",
])
@pytest.mark.parametrize("debug", [False, True])
def test_a_malformed_url_never_prints_its_password(cli, workdir: Path, url: str, debug: bool):
    before = fingerprint(workdir)
    result = cli(*(["--debug"] if debug else []), "studies", "--storage", url)
    assert SECRET not in result.out + result.err
    if not debug:
        assert_one_line(result, "***@")
    assert result.code == 2, result.err
    assert fingerprint(workdir) == before


@pytest.mark.parametrize("text", [
    f"could not open 'u:{SECRET}@host/x'",
    f"bad url postgresql//u:{SECRET}@h/d here",
    f"x=postgresql:u:{SECRET}@h/d",
    f'"redis:/u:{SECRET}@h:6379"',
])
def test_mask_text_hides_any_user_secret_at(text: str):
    masked = mask_text(text)
    assert SECRET not in masked
    assert "***@" in masked


PASSWORD = "S3cr3t%40Pw9"  # url-encoded S3cr3t@Pw9: the encoded and the plain form must both stay hidden
SHOWN_FORMS = ("S3cr3t", "%40Pw9", "@Pw9")
REPORT_FORMATS = ("table", "markdown", "json", "csv", "html")


def leaks(text: str) -> list[str]:
    return [form for form in SHOWN_FORMS if form in text]


def database_text(url: str) -> str:
    """Every value of every table of the storage, as text: what any client of the database can read."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
            # the names come from the database's own catalogue, not from input
            queries = [sa.text(f'SELECT * FROM "{table}"') for table in tables]  # noqa: S608
            rows = [str(row) for query in queries for row in connection.execute(query)]
    finally:
        engine.dispose()
    return "\n".join(rows)


def report_everything(cli, url: str, out: Path) -> str:
    """Every report format on stdout, and every file of `--out`, as one text."""
    texts = []
    for fmt in REPORT_FORMATS:
        result = cli("report", "--storage", url, "--format", fmt)
        assert result.code == 0, result.err
        texts.append(result.out + result.err)
    result = cli("report", "--storage", url, "--out", str(out))
    assert result.code == 0, result.err
    files = [p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()]
    texts += [result.out + result.err, *files]
    return "\n".join(texts)


@pytest.fixture
def secret_postgres(fresh_postgres: str) -> tuple[str, str]:
    """(the database's URL without a password, the same URL with PASSWORD) on the trust-auth test server."""
    return fresh_postgres, fresh_postgres.replace("postgres@", f"postgres:{PASSWORD}@", 1)


@pytest.mark.postgres
@needs_postgres()
@pytest.mark.parametrize("way", ["override", "flag", "spec"])
def test_a_password_given_any_way_is_never_stored_nor_reported(cli, workdir, secret_postgres, way):
    plain, secret = secret_postgres
    spec = QUICK_SPEC + (f"storage: {secret}\n" if way == "spec" else "")
    (workdir / "s.yaml").write_text(spec)
    given = {"override": ["-o", f"storage={secret}"], "flag": ["--storage", secret], "spec": []}[way]
    searched = cli("search", "s.yaml", *given)
    assert searched.code == 0, searched.err
    assert not leaks(searched.out + searched.err)
    assert "tiny" in database_text(plain) and not leaks(database_text(plain))  # every attribute, every trial
    assert not leaks(report_everything(cli, secret, workdir / "out"))


def test_a_password_an_older_search_stored_is_never_reported(cli, workdir):
    """Studies written before the masking carry the password in their reproduce commands: reports hide it."""
    from lstmexp.vocabulary.attrs import REPRODUCE_ATTR, REPRODUCE_BASE_ATTR
    from tests.hostile import make_studies

    database, _ = make_studies(workdir / "old")
    leaked = f"postgresql://postgres:{PASSWORD}@db.example/x"
    with sqlite3.connect(database) as connection:  # finished trials: only the file itself can still be edited
        connection.execute("UPDATE study_user_attributes SET value_json = ? WHERE key = ?",
                           (json.dumps(f"lstmexp run -o 'storage={leaked}'"), REPRODUCE_BASE_ATTR))
        connection.execute("UPDATE trial_user_attributes SET value_json = ? WHERE key = ?",
                           (json.dumps(f"lstmexp run -o storage={leaked} --batch-size 16"), REPRODUCE_ATTR))
        connection.execute("INSERT INTO trial_user_attributes (trial_id, key, value_json) "
                           "SELECT trial_id, 'failure_detail', ? FROM trials",
                           (json.dumps(f"could not reach {leaked}"),))
    assert PASSWORD in database_text(f"sqlite:///{database}")
    assert not leaks(report_everything(cli, f"sqlite:///{database}", workdir / "out"))
