"""Examples and one-line summaries for `lstmexp COMMAND --help` (plain strings: imports nothing).

Click cuts a command's summary in the command list with '...' at the terminal's width; the short
texts here fit an 80-column terminal whole. The `\\b` line keeps click from re-wrapping examples.
"""

from __future__ import annotations

COMPLETION = (
    "Shell completion: add eval \"$(_LSTMEXP_COMPLETE=bash_source lstmexp)\" to ~/.bashrc "
    "(zsh_source or fish_source for zsh or fish)."
)


def examples(*lines: str) -> str:
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


EPILOGS = {
    "claims": examples(
        "lstmexp claims",
        "lstmexp claims -o data.path=my_series.csv -o data.target=load --max-cpu-minutes 20",
        "lstmexp claims --workers 2 --study claims-2",
    ),
    "lstmexp": examples("lstmexp search experiments/smoke.yaml", "lstmexp report --study smoke") + "\n\n" + COMPLETION,
    "search": examples(
        "lstmexp search experiments/default.yaml --trials 40",
        "lstmexp search -o data.path=my_series.csv -o data.target=load",
    ),
    "run": examples(
        "lstmexp run --batch-size 64 --time-step 16 --hidden-size 32",
        "lstmexp run experiments/smoke.yaml --batch-size 32 --time-step 8 --json",
    ),
    "report": examples(
        "lstmexp report --study default --format html --out report/",
        "lstmexp report --study default --study my_series   # side by side",
    ),
    "compare": examples(
        "lstmexp compare default my_series",
        "lstmexp compare a b --storage sqlite:///results/a.db --storage sqlite:///results/b.db",
    ),
    "datasets": examples("lstmexp datasets", "lstmexp datasets describe my_series.csv"),
    "studies": examples("lstmexp studies", "lstmexp studies --storage sqlite:///results/ett.db"),
    "predict": examples(
        "lstmexp predict ett_s_96 --storage sqlite:///results/ett.db --out forecast.csv",
        "lstmexp predict default --trial 3 --data newer_rows.csv",
    ),
    "describe": examples(
        "lstmexp datasets describe synthetic",
        "lstmexp datasets describe my_series.csv -o data.target=load",
    ),
}

SHORT_HELP = {
    "claims": "Test claims C1..C14 on your data with a designed study.",
    "search": "Run (or resume) an Optuna study over a spec.",
    "run": "Train one configuration and print its figures.",
    "report": "Trade-offs, recommendations and claim verdicts.",
    "compare": "Two or more studies side by side.",
    "datasets": "List the built-in datasets; describe a file.",
    "studies": "List a storage's studies, trials and best configurations.",
    "predict": "Forecast with a kept trial's weights, as CSV.",
    "describe": "Rows, columns, dates and splits of a dataset.",
}
