"""Foreign files and control characters: lstmexp never echoes a foreign file's lines, never obeys an escape.

A file that is not a spec or a data table (a password file, a script, a log, binary bytes) gets an error
that names the file and the problem without quoting it. Names read from a data file or a storage
(columns, study names, paths) that hold terminal escapes, carriage returns or newlines are printed
escaped (`\\x1b[31m`), in every command that shows them.
"""

from __future__ import annotations

import os
from pathlib import Path

import optuna
import pytest

from lstmexp.text import SafeConsole, printable
from tests.hostile import QUICK_SPEC, assert_one_line, fingerprint, make_studies

MARKER = "zq7MARKERsecret"
FOREIGN_FILES = {
    "passwords": f"root:{MARKER}:20228:0:99999:7:::\ndaemon:*:20228:0:99999:7:::\n",
    "script": f"#!/bin/sh\necho {MARKER}\nexit 0\n",
    "log": f"2026-12-01 10:00:01 INFO user={MARKER} logged in\n2026-12-01 10:00:02 INFO done\n",
    "one word": f"{MARKER}\n",
}
ESCAPES = {
    "colour": "\x1b[31mred",
    "title": "\x1b]0;owned\x07t",
    "carriage return": "ok\rforged",
    "bidi override": "abc\u202edcba",
}
RAW = ("\x1b", "\x07", "\r", "\u202e")


def write_foreign(folder: Path, kind: str, name: str) -> Path:
    path = folder / name
    path.write_text(FOREIGN_FILES[kind])
    return path


def assert_no_marker(result, *texts: str) -> None:
    for text in (MARKER, *texts):
        assert text not in result.out + result.err, (result.out, result.err)


@pytest.mark.parametrize("kind", sorted(FOREIGN_FILES))
@pytest.mark.parametrize("debug", [False, True])
def test_a_foreign_file_given_as_data_is_named_never_quoted(cli, workdir: Path, kind: str, debug: bool):
    foreign = write_foreign(workdir, kind, "secrets.csv")
    link = workdir / "innocent.csv"
    link.symlink_to(foreign)
    before = fingerprint(workdir)
    flags = ["--debug"] if debug else []
    for name in ("secrets.csv", "innocent.csv"):
        described = cli(*flags, "datasets", "describe", name)
        assert_no_marker(described)
        assert described.code == 2, described.out
        searched = cli(*flags, "search", "-o", f"data.path={name}", "-o", "data.target=y")
        assert_no_marker(searched)
        assert searched.code == 2, searched.out
        if not debug:
            assert_one_line(described, name)
            assert_one_line(searched, name)
    assert fingerprint(workdir) == before


@pytest.mark.parametrize("kind", sorted(FOREIGN_FILES))
@pytest.mark.parametrize("command", ["search", "run"])
def test_a_foreign_file_given_as_a_spec_is_named_never_quoted(cli, workdir: Path, kind: str, command: str):
    write_foreign(workdir, kind, "notes.txt")
    before = fingerprint(workdir)
    result = cli(command, "notes.txt")
    assert_no_marker(result)
    assert_one_line(result, "notes.txt")
    assert fingerprint(workdir) == before


def test_binary_bytes_given_as_data_or_spec_are_named_never_echoed(cli, workdir: Path):
    payload = os.urandom(512) + MARKER.encode() + os.urandom(64)
    (workdir / "blob.csv").write_bytes(payload)
    (workdir / "blob.yaml").write_bytes(payload)
    for result in (cli("datasets", "describe", "blob.csv"), cli("search", "blob.yaml")):
        assert_no_marker(result)
        assert result.code == 2


def header_csv(folder: Path, column: str) -> Path:
    path = folder / "escapes.csv"
    rows = "\n".join(f"{day},{day % 7},{day % 5}" for day in range(1, 200))
    path.write_text(f'step,"{column}",y\n{rows}\n')
    return path


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_column_names_with_control_characters_are_shown_escaped_by_describe(cli, workdir: Path, name: str):
    header_csv(workdir, ESCAPES[name])
    result = cli("datasets", "describe", "escapes.csv")
    assert result.code == 0, result.err
    assert not any(raw in result.out + result.err for raw in RAW), repr(result.out)
    assert printable(ESCAPES[name]) in result.out


def test_a_newline_in_a_column_name_cannot_forge_a_line_of_the_search_start(cli, workdir: Path):
    header_csv(workdir, "a\nerror: forged")
    spec = workdir / "quick.yaml"
    spec.write_text(QUICK_SPEC.replace("data: {dataset: synthetic, rows: 400}",
                                       "data: {path: escapes.csv, target: y, mode: MS}"))
    result = cli("search", "quick.yaml", "--storage", f"sqlite:///{workdir / 'escapes.db'}", "--trials", "1")
    shown = result.out + result.err
    assert "\\x0aerror: forged" in shown, shown
    assert not any(line.startswith("error: forged") for line in shown.splitlines())
    assert not any(raw in shown for raw in RAW)


@pytest.fixture(scope="module")
def hostile_named_storage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A real lstmexp study copied under a name full of control characters (as another tool could write)."""
    folder = tmp_path_factory.mktemp("escaped-study")
    database, _ = make_studies(folder)
    url = f"sqlite:///{database}"
    hostile = "tiny" + ESCAPES["colour"] + ESCAPES["title"] + "\nforged line"
    optuna.copy_study(from_study_name="tiny", from_storage=url, to_storage=url, to_study_name=hostile)
    return database, hostile


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_a_study_name_with_escapes_is_shown_escaped_by_report(cli, hostile_named_storage, fmt: str):
    database, hostile = hostile_named_storage
    result = cli("report", "--study", hostile, "--storage", f"sqlite:///{database}", "--format", fmt)
    assert result.code == 0, result.err
    assert not any(raw in result.out + result.err for raw in RAW), repr(result.out[:400])
    assert not any(line.startswith("forged line") for line in result.out.splitlines())


def test_a_study_name_with_escapes_is_shown_escaped_by_studies(cli, hostile_named_storage):
    database, _ = hostile_named_storage
    result = cli("studies", "--storage", f"sqlite:///{database}")
    assert result.code == 0, result.err
    assert not any(raw in result.out for raw in RAW), repr(result.out)
    assert "\\x1b[31m" in result.out.replace("\n", "").replace("│", "").replace(" ", "") or "\\x1b" in result.out


def test_an_error_naming_a_hostile_study_shows_it_escaped(cli, hostile_named_storage):
    database, hostile = hostile_named_storage
    result = cli("report", "--study", hostile + "x", "--storage", f"sqlite:///{database}")
    assert result.code == 2
    assert len(result.err.splitlines()) == 1, result.err
    assert not any(raw in result.err for raw in RAW), repr(result.err)


@pytest.mark.parametrize("text, shown", [
    ("plain name", "plain name"),
    ("\x1b[31mred", "\\x1b[31mred"),
    ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
    ("\u202e", "\\u202e"),
    ("café 温度", "café 温度"),
])
def test_printable_escapes_control_characters_only(text: str, shown: str):
    assert printable(text) == shown


def test_safe_console_escapes_text_but_keeps_its_own_styles(tmp_path: Path):
    import io

    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=True, color_system="standard", width=80)
    console.print("[bold]name:[/bold] \x1b]0;owned\x07x \x1b[2J", highlight=False)
    out = buffer.getvalue()
    assert "\x1b]0;" not in out and "\x1b[2J" not in out
    assert "\\x1b[2J" in out
    assert "\x1b[1m" in out  # rich's own bold is still a real escape


def test_the_spec_sections_the_foreign_file_check_knows_are_the_spec_models_fields():
    from lstmexp.spec import ExperimentSpec
    from lstmexp.spec.loading import SPEC_SECTIONS

    assert set(SPEC_SECTIONS) == set(ExperimentSpec.model_fields)
