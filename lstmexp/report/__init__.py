"""The report: a study's trials -> trade-offs, Pareto front, importance, claim verdicts, recommendations,
plots, rendered for the terminal, Markdown, HTML, CSV and JSON.

Stages: load (trials as a DataFrame) -> build (Report: the sections as data; claims, evidence, pareto,
importance, recommend) -> sections (what each format shows) -> render / html / plots / write.
`run.report_study` is what `lstmexp report` calls.
"""

from lstmexp.report.build import Report, build_report
from lstmexp.report.load import load_trials, load_trials_frame

__all__ = ["Report", "build_report", "load_trials", "load_trials_frame"]
