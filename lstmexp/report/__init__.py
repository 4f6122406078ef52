"""The report: trials as a DataFrame, trade-off tables, and renderers (terminal, Markdown, CSV, JSON)."""

from lstmexp.report.build import Report, build_report
from lstmexp.report.load import load_trials_frame

__all__ = ["Report", "build_report", "load_trials_frame"]
