"""The report in a terminal, answer first: what to run and the claims' verdicts, then rich tables at
100 columns (detail sections left out)."""

from __future__ import annotations

import io
from typing import Any, Literal

import pandas as pd

from lstmexp.report.answer import answer_lines
from lstmexp.report.outline import Outline
from lstmexp.report.people import for_people
from lstmexp.report.sections import Section

TERMINAL_WIDTH = 100
# Left out of terminal tables only (Markdown, HTML, CSV and JSON keep them).
# At 100 columns the secondary figures give way (state: only when all rows share it).
# Hidden speed columns leave samples/s to stand for speed, so captions stay true.
TERMINAL_HIDDEN = ("test_mse", "param_count", "state", "iterations_per_epoch", "complete", "train_s_per_epoch")


def print_table(shape: Outline, console: Any) -> None:
    """Print the report to a rich Console (detail sections left out)."""
    console.print(shape.title, style="bold", markup=False)
    for line in shape.lines:
        console.print(line, markup=False, highlight=False)
    for section in shape.lead:  # a claims study opens with its one row per claim
        print_section(section, console)
    print_answers(shape, console)
    for section in shape.sections:
        if section.detail:
            continue
        if section.key == "recommendations" and shape.answers:
            print_section(section, console, with_lines=False)  # its commands and warnings are in the answer
        else:
            print_section(section, console)


def print_section(section: Section, console: Any, with_lines: bool = True) -> None:
    """One section: its title, table, caption and (unless said otherwise) its lines."""
    console.print()
    console.print(section.title, style="bold", markup=False, highlight=False)
    console.print(section_table(section.frame))
    if section.caption:
        console.print(section.caption, style="italic", markup=False, highlight=False)
    for line in section.lines if with_lines else []:
        console.print(line, markup=False, highlight=False, soft_wrap=line.lstrip().startswith("lstmexp "))


def print_answers(shape: Outline, console: Any) -> None:
    """The answer first: recommended configurations with their commands, then one line per claim."""
    for study, answer in shape.answers:
        prefix = f"[{study}] " if len(shape.answers) > 1 else ""
        console.print()
        console.print(f"{prefix}Answer", style="bold", markup=False, highlight=False)
        for line in answer_lines(answer):
            style = "bold red" if line.startswith(("WARNING", "  warning")) else None
            console.print(line, style=style, markup=False, highlight=False,
                          soft_wrap=line.lstrip().startswith("lstmexp "))
        console.print()
        console.print(f"{prefix}Claims", style="bold", markup=False, highlight=False)
        for sentence in [answer.claims_note, *answer.verdicts]:
            if sentence:
                console.print(sentence, markup=False, highlight=False)


def section_table(frame: pd.DataFrame) -> Any:
    """One section's rows as a rich Table."""
    from rich import box
    from rich.table import Table
    from rich.text import Text  # plain text: a study called "[red]" must not be read as markup

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    shown = for_people(terminal_view(frame))
    for column in shown.columns:
        justify: Literal["left", "right"] = "right" if looks_numeric(shown[column]) else "left"
        # At 120 columns a wide table must give: cells wrap within their column (a spread goes
        # to a second line), and min_width keeps every header whole (no "hidde" for hidden).
        table.add_column(Text(str(column)), justify=justify, overflow="fold", no_wrap=False,
                         min_width=len(str(column)))
    for row in shown.itertuples(index=False):
        table.add_row(*[Text(str(v)) for v in row])
    return table


def looks_numeric(cells: pd.Series) -> bool:
    """Formatted cells that are numbers (or ×factors): right-aligned; text: left-aligned."""
    return all(not c or c[0].isdigit() or c[0] in "-+×" for c in cells)


def terminal_view(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the columns the terminal leaves out (the state too, when every row has the same one)."""
    hidden = [c for c in TERMINAL_HIDDEN if c in frame.columns and (c != "state" or frame[c].nunique() <= 1)]
    hidden += [f"{c}_iqr" for c in hidden if f"{c}_iqr" in frame.columns]
    return frame.drop(columns=hidden)


def render_terminal(shape: Outline) -> str:
    from lstmexp.text import SafeConsole, printable

    console = SafeConsole(width=TERMINAL_WIDTH, record=True, file=io.StringIO(), force_terminal=False)
    print_table(shape, console)
    return printable(console.export_text(), keep="\n\t")
