"""The report in a terminal, answer first: what to run and the claims' verdicts, then rich tables at
100 columns.

By default it fits a screen or two: the claims (one row each, said once), the answer and the top
configurations; `--detail` adds every other table (the claims part by part among them; the rows
behind each part stay in Markdown, HTML and JSON). Cells are never broken: a number keeps its
width, text wraps at spaces, a word too long ends in an ellipsis.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from lstmexp.report.answer import answer_lines
from lstmexp.report.outline import Outline
from lstmexp.report.people import for_people
from lstmexp.report.sections import Section
from lstmexp.vocabulary.names import ITERATIONS_PER_EPOCH, PARAM_COUNT, TEST_MSE, TRAIN_S_PER_EPOCH

TERMINAL_WIDTH = 100
# Left out of terminal tables only (Markdown, HTML, CSV and JSON keep them).
# At 100 columns the secondary figures give way (state: only when all rows share it).
# Hidden speed columns leave samples/s to stand for speed, so captions stay true.
TERMINAL_HIDDEN = (TEST_MSE, PARAM_COUNT, "state", ITERATIONS_PER_EPOCH, "complete", TRAIN_S_PER_EPOCH)
MIN_TEXT_WIDTH = 12  # a text column shrinks no further (then its cells end in an ellipsis)
BRIEF_SECTIONS = ("configurations",)  # what the default (not --detail) terminal report shows after the answer
BRIEF_ROWS = 10  # configurations listed without --detail


def print_table(shape: Outline, console: Any, detail: bool = True) -> None:
    """Print the report to a rich Console: brief (answer and top configurations) or with every table."""
    console.print(shape.title, style="bold", markup=False)
    for line in shape.lines:
        console.print(line, markup=False, highlight=False)
    for section in shape.lead:  # the report opens with one row per claim
        print_section(section, console)
    print_answers(shape, console)
    shown = [s for s in shape.sections if not s.detail and (detail or s.key in BRIEF_SECTIONS)]
    for section in shown:  # the recommendations' commands and warnings are in the answer above
        print_section(section, console, with_lines=not (section.key == "recommendations" and shape.answers),
                      rows=None if detail else BRIEF_ROWS)
    if not detail:
        console.print()
        console.print("more: --detail (claims part by part, trade-offs, matrices, Pareto front, importance, all "
                      "trials), or --format html --out DIR (charts, each claim's rows)", markup=False, highlight=False)


def print_section(section: Section, console: Any, with_lines: bool = True, rows: int | None = None) -> None:
    """One section: its title, table (its first `rows` rows, or all), caption and (unless said otherwise) lines."""
    frame = section.frame if rows is None else section.frame.head(rows)
    console.print()
    console.print(section.title, style="bold", markup=False, highlight=False)
    console.print(section_table(frame))
    if len(frame) < len(section.frame):
        console.print(f"top {len(frame)} of {len(section.frame)}; all of them: --detail", markup=False,
                      highlight=False)
    if section.caption:
        console.print(section.caption, style="italic", markup=False, highlight=False)
    for line in section.lines if with_lines else []:
        console.print(line, markup=False, highlight=False, soft_wrap=line.lstrip().startswith("lstmexp "))


def print_answers(shape: Outline, console: Any) -> None:
    """The answer after the claims: recommended configurations with their commands and warnings."""
    for study, answer in shape.answers:
        prefix = f"[{study}] " if len(shape.answers) > 1 else ""
        console.print()
        console.print(f"{prefix}Answer", style="bold", markup=False, highlight=False)
        for line in answer_lines(answer):
            style = "bold red" if line.startswith(("WARNING", "  warning")) else None
            console.print(line, style=style, markup=False, highlight=False,
                          soft_wrap=line.lstrip().startswith("lstmexp "))


def section_table(frame: pd.DataFrame, width: int = TERMINAL_WIDTH) -> Any:
    """One section's rows as a rich Table: numbers keep their width, long text wraps at spaces.

    Columns that cannot fit `width` even at their narrowest are left out, last first, and named
    in the table's caption (every format but the terminal keeps them)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text  # plain text: a study called "[red]" must not be read as markup

    shown = for_people(terminal_view(frame))
    numeric = {column: looks_numeric(shown[column]) for column in shown.columns}
    narrowest = {column: narrowest_width(shown[column], numeric[column]) for column in shown.columns}
    kept = list(shown.columns)
    while len(kept) > 1 and sum(narrowest[c] for c in kept) + 2 * (len(kept) - 1) > width:
        kept.pop()
    left_out = [str(c) for c in shown.columns if c not in kept]
    caption = f"not shown at {width} columns: {', '.join(left_out)} (--format html or csv)" if left_out else None
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, caption=caption, caption_justify="left")
    for column in kept:
        # A number is never cut or wrapped; text wraps at spaces, and one word too long for its
        # column ends in an ellipsis (never split); headers stay whole (short: people.UNIT_HEADERS).
        table.add_column(Text(str(column)), justify="right" if numeric[column] else "left",
                         no_wrap=numeric[column], overflow="ellipsis", min_width=narrowest[column])
    for row in shown[kept].itertuples(index=False):
        table.add_row(*[Text(str(v)) for v in row])
    return table


def narrowest_width(cells: pd.Series, numeric: bool) -> int:
    """The narrowest a column may get: its header, and every number whole (text may wrap down to a few letters)."""
    widest = max((len(str(c)) for c in cells), default=0)
    header = len(str(cells.name))
    return max(header, widest) if numeric else max(header, min(widest, MIN_TEXT_WIDTH))


def looks_numeric(cells: pd.Series) -> bool:
    """Formatted cells that are numbers (or ×factors): right-aligned; text: left-aligned."""
    return all(not c or c[0].isdigit() or c[0] in "-+×" for c in cells)


def terminal_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the columns the terminal leaves out (the state too, when every row has the same one)."""
    hidden = [c for c in TERMINAL_HIDDEN if c in frame.columns and (c != "state" or frame[c].nunique() <= 1)]
    hidden += [f"{c}_iqr" for c in hidden if f"{c}_iqr" in frame.columns]
    return frame.drop(columns=hidden)


def render_terminal(shape: Outline, detail: bool = True) -> str:
    from lstmexp.text import SafeConsole, printable

    console = SafeConsole(width=TERMINAL_WIDTH, record=True, file=io.StringIO(), force_terminal=False)
    print_table(shape, console, detail)
    return printable(console.export_text(), keep="\n\t")
