"""A small chart per decided claim of a claims study: the measured figure against the setting, and the effect.

Left panel: the figure the verdict rests on against the setting the claim is about (the medians
per setting that the effect is fitted on, one line per group of comparable trials), or, for the
claims checked on every trial (C1..C3), the recorded count beside the claim's formula. Right
panel: each tested statement's factor with its 95% interval against "no effect" (×1):
the verdict holds when the whole interval lies on the claim's side. Charts are `chart.Chart`
definitions, drawn by both the HTML page and the PNGs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from lstmexp.report.chart import LINES, MARKERS, Axis, Chart, Panel, Series, category_axis, colour, finite, log_axis
from lstmexp.report.claims import FAILS, HOLDS, MIXED, ClaimResult, PartResult
from lstmexp.report.claims_table import EXPECTED
from lstmexp.units import MIB
from lstmexp.vocabulary.attrs import DESIGN_ATTR

if TYPE_CHECKING:
    from lstmexp.report.build import Report

DECIDED = (HOLDS, FAILS, MIXED)
MOST_LINES = 6  # groups of comparable trials drawn; the rest are named in the title
MEDIAN = "median "


def claim_charts(report: Report) -> list[Chart]:
    """One chart per decided claim with data, for a claims study (none for other studies)."""
    if not isinstance(report.study_attrs.get(DESIGN_ATTR), dict):
        return []
    return [chart for chart in (claim_chart(c) for c in report.claims if c.verdict in DECIDED) if chart is not None]


def claim_chart(claim: ClaimResult) -> Chart | None:
    tested = [p for p in claim.parts if p.effect is not None]
    shown = next((p for p in tested if not p.rows.empty), None) or next((p for p in claim.parts if not p.rows.empty),
                                                                         None)
    if shown is None:
        return None
    measured, left_out = measured_panel(shown)
    panels = (measured, effect_panel(tested)) if tested else (measured,)
    title = f"{claim.code} {claim.verdict}: {claim.text}" + (f" ({left_out} more groups not drawn)" if left_out else "")
    if tested:
        statements = "; ".join(f"{i} = {p.statement}" for i, p in enumerate(tested, start=1))
        caption = (f"left: {shown.statement}, the medians per setting the effect is fitted on; right: each tested "
                   f"statement's factor with its 95% interval against no effect (×1): {statements}")
    else:
        caption = f"{shown.statement}: the recorded figure beside the claim's formula (exact counts: no interval)"
    return Chart(f"claim_{claim.code}", title, caption, panels, small=True)


def columns_of(rows: pd.DataFrame) -> tuple[list[str], str, str]:
    """(strata, x, y) of a part's rows: [*strata, x, 'trials', 'median <y>'] (and 'expected' for checks)."""
    names = list(rows.columns)
    at = names.index("trials")
    median = next(c for c in names[at:] if c.startswith(MEDIAN))
    return names[:at - 1], names[at - 1], median


def measured_panel(part: PartResult) -> tuple[Panel, int]:
    """The figure against the setting, one line per group of comparable trials (the most trials first)."""
    strata, x, median = columns_of(part.rows)
    rows = part.rows.dropna(subset=[median])
    figure = median.removeprefix(MEDIAN)
    if figure.endswith("_bytes"):  # memory in MiB, as every other chart shows it
        rows = rows.assign(**{c: rows[c] / MIB for c in (median, EXPECTED) if c in rows.columns})
        figure = f"{figure.removesuffix('_bytes')} (MiB)"
    numeric = all(isinstance(v, int | float) for v in rows[x]) and len(finite(list(rows[x]))) == len(rows)
    if not numeric:  # categories (C1's dimensions): by name, in the order given
        rows = rows.assign(**{x: rows[x].astype(str)})
    groups = [(name_of(strata, key), group) for key, group in rows.groupby(strata, dropna=False, sort=True)] \
        if strata else [("median over trials", rows)]
    groups.sort(key=lambda item: -int(item[1]["trials"].sum()))
    checked = EXPECTED in rows.columns  # a count checked on every trial: points, not a trend
    series = [setting_series(name, group, x, median, colour(i), MARKERS if checked else LINES)
              for i, (name, group) in enumerate(groups[:MOST_LINES])]
    if checked:
        series.append(Series("expected (the claim's formula)", tuple(rows[x]), tuple(float(v) for v in rows[EXPECTED]),
                             MARKERS, colour="black", marker="ring"))
    y = [v for s in series for v in s.y]
    x_axis = log_axis(x, list(rows[x]), at_values=True) if numeric else category_axis(x, list(dict.fromkeys(rows[x])))
    y_axis = log_axis(figure, y) if len(finite(y)) == len(y) else Axis(figure)
    panel = Panel(x_axis, y_axis, tuple(series), title="measured", legend="comparable trials" if strata else "")
    return panel, max(0, len(groups) - MOST_LINES)


def name_of(strata: list[str], key: object) -> str:
    keys = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{s}={v}" for s, v in zip(strata, keys, strict=True))


def setting_series(name: str, group: pd.DataFrame, x: str, median: str, shade: str, mode: str) -> Series:
    group = group.sort_values(x)
    hover = tuple(f"{x}={s}<br>{int(n)} trials, {median} {v:.4g}"
                  for s, n, v in zip(group[x], group["trials"], group[median], strict=True))
    return Series(name, tuple(group[x]), tuple(float(v) for v in group[median]), mode, colour=shade, marker="circle",
                  hover=hover)


def effect_panel(tested: list[PartResult]) -> Panel:
    """Each tested statement's factor with its 95% interval, beside the line of no effect."""
    series = []
    effects = [(part, part.effect) for part in tested if part.effect is not None]
    for i, (part, effect) in enumerate(effects, start=1):
        series.append(Series(f"{i}: ×{effect.factor:.3g} {part.unit} ({part.verdict})", (i,), (effect.factor,),
                             MARKERS, colour=colour(i - 1), marker="circle", low=(effect.low,), high=(effect.high,),
                             hover=(f"{part.statement}<br>×{effect.factor:.3g} (95% CI {effect.low:.3g}–"
                                    f"{effect.high:.3g}), {effect.rows} trials",)))
    series.append(Series("no effect (×1)", (0.5, len(tested) + 0.5), (1.0, 1.0), colour="grey", dash="dot"))
    bounds = [v for s in series[:-1] for v in (*s.low, *s.high)] + [1.0]
    ticks = tuple(float(i) for i in range(1, len(tested) + 1))
    return Panel(Axis("tested statement", ticks=ticks, labels=tuple(str(int(t)) for t in ticks)),
                 log_axis("factor (95% interval)", bounds), tuple(series), title="effect",
                 legend="factor per statement", width=0.7)
