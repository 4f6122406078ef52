"""The documentation, checked: the README stays a landing page and no link leaves the repository.

A user's clone holds only the repository, so a link to `../shared/...` or to a web page is a link
that breaks (or drifts) for them. Links are read from the Markdown outside code: fenced blocks and
inline code show commands and paths, not links.
"""

from __future__ import annotations

import itertools
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 200

FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>")
BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>)]*[^\s<>).,;:]")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose(text: str) -> str:
    """The Markdown without code, where link syntax is only an example."""
    return INLINE_CODE.sub("", FENCED.sub("", text))


def links(text: str) -> set[str]:
    body = prose(text)
    found = INLINE_LINK.findall(body) + REFERENCE_LINK.findall(body) + AUTOLINK.findall(body)
    return set(found + BARE_URL.findall(body))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCED.sub("", path.read_text()), re.MULTILINE)
    return {slug(heading) for heading in headings}


def test_the_docs_exist() -> None:
    names = {path.name for path in DOCS.glob("*.md")}
    expected = {"spec.md", "search.md", "data.md", "report.md", "measurements.md", "results.md",
                "development.md", "claims.md", "design.md"}
    assert expected <= names, f"missing docs pages: {sorted(expected - names)}"


def test_readme_is_a_landing_page() -> None:
    text = README.read_text()
    lines = len(text.splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move reference material into docs/"
    assert "make search" in text
    assert "make test" in text


def test_the_link_reader_finds_every_kind_of_link() -> None:
    # The checks below are only as good as this reader: it must see inline, reference and bare
    # links, and must not see what code spans and fenced blocks merely show.
    sample = (
        "See [a](docs/a.md) and [b](../b.md#x \"title\"), <https://c.example>, https://d.example.\n"
        "[ref]: ../shared/e.md\n"
        "`[not](a/link.md)`\n```\n[nor](this.md)\n```\n"
    )
    assert links(sample) == {"docs/a.md", "../b.md#x", "../shared/e.md", "https://c.example", "https://d.example"}


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository(path: Path) -> None:
    for target in links(path.read_text()):
        assert not SCHEME.match(target), f"{path.name}: {target} points outside the repository"
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        assert resolved.is_relative_to(ROOT), f"{path.name}: {target} points outside the repository"
        assert resolved.exists(), f"{path.name}: {target} points to a file that does not exist"
        if fragment and resolved.suffix == ".md":
            assert fragment in anchors(resolved), f"{path.name}: {target}: no heading '{fragment}' there"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_docs_pages_climb_and_only_to_the_repository(path: Path) -> None:
    # `../` is how a docs page links back to README.md; from the README (at the root) any `../`
    # leaves the clone, and nothing may reach for ../shared, which a user's clone does not have.
    for target in links(path.read_text()):
        assert "shared/" not in target, f"{path.name}: {target} is outside the repository"
        if path == README:
            assert not target.startswith("../"), f"README.md: {target} leaves the repository"


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_every_docs_page_links_back_to_the_readme(path: Path) -> None:
    assert "../README.md" in links(path.read_text()), f"docs/{path.name} has no link back to README.md"


def test_the_readme_links_every_docs_page() -> None:
    linked = {target.partition("#")[0] for target in links(README.read_text())}
    for page in sorted(DOCS.glob("*.md")):
        assert f"docs/{page.name}" in linked, f"README.md does not link docs/{page.name}"


def documented_errors() -> list[tuple[str, int, str, str]]:
    """Every `$ lstmexp ...` example followed by the `error:` line it prints (file, line, command, error).

    Examples that name a storage need that storage's studies and are left out."""
    found = []
    for path in markdown_files():
        lines = path.read_text().splitlines()
        for number, (line, after) in enumerate(itertools.pairwise(lines), start=1):
            if line.startswith("$ lstmexp ") and after.startswith("error:") and "--storage" not in line:
                found.append((path.name, number, line.removeprefix("$ lstmexp "), after))
    return found


def test_the_docs_show_error_examples() -> None:
    assert len(documented_errors()) >= 5


@pytest.mark.parametrize(("page", "line", "command", "error"), documented_errors(),
                         ids=[f"{page}:{line}" for page, line, _, _ in documented_errors()])
def test_every_documented_error_is_what_the_command_prints(cli, tmp_path, monkeypatch, page, line, command,
                                                           error) -> None:
    monkeypatch.chdir(tmp_path)  # nothing of the repository's own experiments or results in reach
    result = cli(*shlex.split(command))
    assert (result.code, result.err.strip()) == (2, error), f"{page}:{line} shows an error the command no longer prints"
    assert list(tmp_path.iterdir()) == []  # a refused command writes nothing
