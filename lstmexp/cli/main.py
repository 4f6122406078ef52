"""The `lstmexp` command line: parsing, progress display, and turning errors into one-line messages.

Heavy libraries (torch, optuna, pandas, pydantic) are imported inside the commands so that
`lstmexp --help` answers at once. Errors a user can fix exit 2 with `error: ...` on stderr;
`--debug` adds the traceback (with storage passwords masked).
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import TYPE_CHECKING, Any

import click

from lstmexp import __version__
from lstmexp.choices import LOG_TARGETS, OBJECTIVES, PRUNERS, REPORT_FORMATS, SAMPLERS, SIZE_PATHS
from lstmexp.cli.claims import claims
from lstmexp.cli.helptext import EPILOGS, SHORT_HELP
from lstmexp.cli.launch import REPRODUCE_ENV, CheckedGroup, bounded, finite_flag
from lstmexp.cli.studies import predict, reproduce_base, studies
from lstmexp.errors import Interrupted, LstmexpError
from lstmexp.storage.urls import DEFAULT_STORAGE, DEFAULT_WORKERS_STORAGE, mask_text
from lstmexp.text import printable
from lstmexp.trial.names import FAILURE_DETAIL, FAILURE_REASON

if TYPE_CHECKING:
    from lstmexp.spec import ExperimentSpec

DEBUG_ENV = "LSTMEXP_DEBUG"
MAX_MESSAGE_CHARS = 1000
MAX_REPORT_MEMORY = 2**60  # --max-memory beyond 1 EiB describes no machine (and overflows SQL integers)

spec_argument = click.argument("spec", required=False, type=click.Path(dir_okay=True, path_type=str))
override_option = click.option(
    "-o",
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a spec field, e.g. -o train.epochs=3 -o search.space.batch_size=[32,64]. Repeatable.",
)
device_option = click.option("--device", help="auto (CUDA when available), cpu, cuda or cuda:N.")
seed_option = click.option("--seed", type=bounded("train.seed"), help="Training seed (overrides train.seed).")
repeats_option = click.option(
    "--repeats", type=bounded("train.repeats"), help="Train each configuration R times with seeds seed..seed+R-1."
)


# Commands that use Optuna: its log levels and warning filters are set before they run.
# report: optuna_compat.importances_over quiets its own in-memory study
OPTUNA_COMMANDS = ("search", "studies", "predict", "claims")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EPILOGS["lstmexp"], cls=CheckedGroup)
@click.version_option(__version__, prog_name="lstmexp")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Which batch_size, time_step and hidden_size should your LSTM use, and what does each cost?

    `lstmexp search` runs an Optuna study over an experiment spec (YAML); `lstmexp report`
    tabulates speed, memory and accuracy per choice; `lstmexp run` measures one configuration.
    """
    if ctx.invoked_subcommand in OPTUNA_COMMANDS:
        from lstmexp.cli.launch import quiet_libraries

        quiet_libraries()


for command in (studies, predict, claims):
    cli.add_command(command)


def load_spec_with_flags(spec_path: str | None, overrides: tuple[str, ...], **flags: Any) -> ExperimentSpec:
    """The spec file plus CLI flags (as overrides, so they are validated like everything else)."""
    from lstmexp.spec import load_spec

    flag_fields = {
        "trials": "search.trials", "study": "study", "device": "train.device", "seed": "train.seed",
        "epochs": "train.epochs", "sampler": "search.sampler", "repeats": "train.repeats", "pruner": "search.pruner",
        "objectives": "search.objectives", "timeout": "search.max_minutes", **SIZE_PATHS,
    }
    extra = [f"{flag_fields[name]}={json.dumps(value)}" for name, value in flags.items() if value is not None]
    return load_spec(spec_path, [*overrides, *extra])


@cli.command(epilog=EPILOGS["search"], short_help=SHORT_HELP["search"])
@spec_argument
@click.option("--trials", type=bounded("search.trials"), help="Target number of finished trials in the study.")
@click.option("--study", help="Study name (overrides the spec's `study`).")
@click.option("--storage", help=f"Optuna storage URL [default: the spec's, else {DEFAULT_STORAGE}; "
              f"with --workers: {DEFAULT_WORKERS_STORAGE}].")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on this machine, each with cores/K torch threads.")
@click.option("--sampler", type=click.Choice(SAMPLERS), help="Overrides search.sampler.")
@click.option("--timeout", type=bounded("search.max_minutes"), metavar="MINUTES",
              help="Stop between trials after this many wall minutes (search.max_minutes).")
@click.option("--pruner", type=click.Choice(PRUNERS), help="Overrides search.pruner.")
@click.option("--objective", "objectives", multiple=True, type=click.Choice(OBJECTIVES),
              help="Objective (repeat for a multi-objective Pareto search); overrides search.objectives.")
@device_option
@seed_option
@repeats_option
@override_option
@click.option("--log-to", type=click.Choice(LOG_TARGETS),
              help="Also log each trial's parameters, loss curves and figures to MLflow or TensorBoard "
                   "(pip install 'lstmexp[mlflow]' or 'lstmexp[tensorboard]').")
def search(
    spec: str | None,
    trials: int | None,
    study: str | None,
    storage: str | None,
    workers: int,
    sampler: str | None,
    timeout: float | None,
    pruner: str | None,
    objectives: tuple[str, ...],
    device: str | None,
    seed: int | None,
    repeats: int | None,
    overrides: tuple[str, ...],
    log_to: str | None,
) -> None:
    """Run (or resume) a study over SPEC (a YAML file; default: the built-in defaults)."""
    from lstmexp.cli.launch import check_worker_count, worker_process
    from lstmexp.cli.progress import say_summary
    from lstmexp.cli.startup import prepare, run_shown
    from lstmexp.storage.urls import check_url, mask_url
    from lstmexp.text import SafeConsole

    experiment = load_spec_with_flags(
        spec, overrides, trials=trials, study=study, device=device, seed=seed, sampler=sampler, pruner=pruner,
        objectives=list(objectives) or None, repeats=repeats, timeout=timeout,
    )
    check_worker_count(workers)
    experiment, storage_url, start_lines = prepare(experiment, workers, storage)
    check_url(storage_url)
    console = SafeConsole(stderr=True, soft_wrap=True)
    # every trial's reproduce command starts with this; spawned workers inherit it (worker_process)
    base = os.environ[REPRODUCE_ENV] = reproduce_base(spec, overrides, device=device, repeats=repeats)
    summary = run_shown(experiment, storage_url, workers, log_to, start_lines, console, worker_process, base)
    say_summary(console, summary, mask_url(storage_url))


@cli.command(epilog=EPILOGS["run"], short_help=SHORT_HELP["run"])
@spec_argument
@click.option("--batch-size", type=bounded("train.batch_size"),
              help="Batch size, train.batch_size (required if the spec searches several and sets none).")
@click.option("--time-step", type=bounded("data.time_step"), help="Window length T, data.time_step.")
@click.option("--hidden-size", type=bounded("model.hidden_size"), help="LSTM hidden units, model.hidden_size.")
@click.option("--epochs", type=bounded("train.epochs"), help="Epochs (overrides train.epochs).")
@device_option
@seed_option
@repeats_option
@override_option
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def run(
    spec: str | None,
    batch_size: int | None,
    time_step: int | None,
    hidden_size: int | None,
    epochs: int | None,
    device: str | None,
    seed: int | None,
    repeats: int | None,
    overrides: tuple[str, ...],
    as_json: bool,
) -> None:
    """Train one configuration without a study and print its measured figures."""
    from lstmexp.errors import TrialFailure
    from lstmexp.spec.searchable import one_configuration
    from lstmexp.trial.record import plain
    from lstmexp.trial.run import check_spec_runs, run_trial

    experiment = one_configuration(load_spec_with_flags(
        spec, overrides, epochs=epochs, device=device, seed=seed, repeats=repeats, batch_size=batch_size,
        time_step=time_step, hidden_size=hidden_size,
    ))
    check_spec_runs(experiment, one_run=True)
    sizes = experiment.sizes()
    try:
        metrics: dict[str, Any] = {"state": "complete", **sizes, **run_trial(experiment).figures()}
    except TrialFailure as failure:
        metrics = {"state": "fail", **sizes, FAILURE_REASON: failure.reason, FAILURE_DETAIL: failure.detail}
    if as_json:
        click.echo(json.dumps(plain(metrics), default=str, allow_nan=False))
    else:
        print_metrics(metrics)
    if metrics["state"] != "complete":
        sys.exit(1)


def print_metrics(metrics: dict[str, Any]) -> None:
    from rich.table import Table

    from lstmexp.text import SafeConsole

    table = Table("figure", "value", title="lstmexp run", title_justify="left")
    for key, value in metrics.items():
        if isinstance(value, list):
            value = ", ".join(f"{v:.4g}" for v in value)
        elif isinstance(value, float):
            value = f"{value:.6g}"
        table.add_row(key, str(value))
    SafeConsole().print(table)


@cli.command(epilog=EPILOGS["report"], short_help=SHORT_HELP["report"])
@click.option("--study", "studies", multiple=True,
              help="Study name [default: the storage's only study]. Repeat to compare studies side by side.")
@click.option("--storage", "storages", multiple=True, metavar="URL",
              help=f"Optuna storage URL [default: {DEFAULT_STORAGE}]. Once, or once per --study.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str),
              help="Write report.html (plots embedded), report.md, report.json, CSVs and PNGs to this folder "
                   "(and print only where).")
@click.option("--max-memory", metavar="SIZE", help="Recommend the most accurate trial under this peak memory (512MiB).")
@click.option("--within", "within_pct", type=click.FloatRange(min=0, max=1000), default=10.0, show_default=True,
              callback=lambda ctx, param, value: finite_flag(value, "--within"),
              help="'Fastest within X% of the best loss' recommendation: X.")
@click.option("--detail", is_flag=True, help="Terminal: every table, not only the answer and top configurations.")
def report(
    studies: tuple[str, ...], storages: tuple[str, ...], fmt: str, out_dir: str | None, max_memory: str | None,
    within_pct: float, detail: bool,
) -> None:
    """Trade-offs, Pareto front, claim verdicts and recommendations for a study (or several, side by side)."""
    print_report(studies, storages, fmt, out_dir, max_memory, within_pct, detail)


@cli.command(epilog=EPILOGS["compare"], short_help=SHORT_HELP["compare"])
@click.argument("studies", nargs=-1, required=True)
@click.option("--storage", "storages", multiple=True, metavar="URL",
              help=f"Optuna storage URL [default: {DEFAULT_STORAGE}]. Once, or once per study.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=str),
              help="Write the comparison's report.html, report.md, report.json, CSVs and PNGs to this folder.")
@click.option("--detail", is_flag=True, help="Terminal: every table, not only the answers and top configurations.")
def compare(studies: tuple[str, ...], storages: tuple[str, ...], fmt: str, out_dir: str | None, detail: bool) -> None:
    """Studies side by side: each one's answer, configurations and claim verdicts (report --study A --study B)."""
    if len(studies) < 2:
        raise click.UsageError(f"compare needs two or more studies, got {len(studies)}; "
                               f"for one study: lstmexp report --study {studies[0]}")
    print_report(studies, storages, fmt, out_dir, None, 10.0, detail)


def print_report(studies: tuple[str, ...], storages: tuple[str, ...], fmt: str, out_dir: str | None,
                 max_memory: str | None, within_pct: float, detail: bool) -> None:
    """What `report` and `compare` print: the text on stdout, or with --out only where the files went."""
    from pathlib import Path

    from lstmexp.report.run import ReportOptions, report_study
    from lstmexp.storage.locate import pointing_elsewhere
    from lstmexp.units import parse_memory_flag

    limit = parse_memory_flag(max_memory, "--max-memory") if max_memory is not None else None
    if limit is not None and limit > MAX_REPORT_MEMORY:
        raise LstmexpError(f"--max-memory {max_memory} is beyond any machine; give a size below 1 EiB")
    options = ReportOptions(within_pct, limit)
    with pointing_elsewhere(list(studies), list(storages) or [DEFAULT_STORAGE]):  # a missing study: where is it?
        text = report_study(list(storages) or [DEFAULT_STORAGE], list(studies), fmt,
                            Path(out_dir) if out_dir else None, options, detail)
    if out_dir:  # the files are the output: a page of megabytes on the terminal helps no one
        click.echo(f"report written to {out_dir}/report.html (and report.md, report.json, *.csv, plots/)")
    else:
        click.echo(printable(text, keep="\n\t"), nl=False)


@cli.group(invoke_without_command=True, epilog=EPILOGS["datasets"], short_help=SHORT_HELP["datasets"])
@click.pass_context
def datasets(ctx: click.Context) -> None:
    """List the built-in datasets (one line each); `datasets describe` shows one dataset or file."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from lstmexp.data.describe import list_datasets
    from lstmexp.text import SafeConsole

    table = Table("dataset", "what it is", title="built-in datasets (or data.path: a CSV/Parquet file)",
                  title_justify="left")
    for name, description in list_datasets():
        table.add_row(name, description)
    SafeConsole().print(table)


@datasets.command("describe", epilog=EPILOGS["describe"], short_help=SHORT_HELP["describe"])
@click.argument("name_or_path")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False), help="Take the data section from this spec.")
@override_option
def datasets_describe(name_or_path: str, spec_path: str | None, overrides: tuple[str, ...]) -> None:
    """Rows, columns, time range and split sizes of a built-in dataset NAME or a CSV/Parquet PATH."""
    from rich.table import Table

    from lstmexp.data.describe import describe, is_file_reference
    from lstmexp.spec import load_spec
    from lstmexp.text import SafeConsole

    field = "data.path" if is_file_reference(name_or_path) else "data.dataset"
    chosen = f"{field}={json.dumps(name_or_path)}"
    # describe needs no target: mode M keeps the spec valid when the user has not chosen one yet.
    experiment = load_spec(spec_path, ["data.mode=M", *overrides, chosen])
    table = Table("figure", "value", title=f"lstmexp datasets describe {name_or_path}", title_justify="left")
    for figure, value in describe(experiment.data):
        table.add_row(figure, value)
    SafeConsole().print(table)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, mapping every user-fixable error to one line and exit code 2."""
    from lstmexp.interrupt import INVOCATION, caused_by_interrupt, stop_signals_handled

    args = list(sys.argv[1:] if argv is None else argv)
    INVOCATION[:] = args  # for the line that says how to resume an interrupted search
    debug = "--debug" in args or bool(__import__("os").environ.get(DEBUG_ENV))
    try:
        with stop_signals_handled():
            code = cli.main(args=args, prog_name="lstmexp", standalone_mode=False)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        if isinstance(exc.__cause__, EOFError):  # click turns any EOFError into Abort: a bug, not a Ctrl-C
            internal_error(exc.__cause__, debug)
        interrupted()
    except click.ClickException as exc:
        fail(exc.format_message(), debug, hint=usage_hint(exc))
    except Exception as exc:
        if caused_by_interrupt(exc) and not isinstance(exc, Interrupted):  # a driver's error as Ctrl-C unwound
            interrupted()
        if isinstance(exc, LstmexpError):
            fail(str(exc), debug, code=exc.exit_code)
        internal_error(exc, debug)  # a bug, not the user's fault: say so, and how to see more
    sys.exit(code if isinstance(code, int) else 0)


def entry() -> None:
    """The `lstmexp` process: `main`, then an interrupted command's exit code 130 made final.

    A process whose search was stopped by one Ctrl-C printed its line, exited with SystemExit(130)
    and was still reported as killed by SIGINT (-2) once, under load: CPython turns the exit into a
    SIGINT death at shutdown when it saw a KeyboardInterrupt leave code run from C (its
    `_Py_UnhandledKeyboardInterrupt` flag), even one lstmexp caught. The study is saved by then, so
    the process does what the interpreter's shutdown would (waits for its workers, which the stop
    already reached; flushes logs and streams) and ends with 130 itself.
    """
    import logging
    import multiprocessing
    import os

    from lstmexp.interrupt import INTERRUPT_EXIT_CODE

    try:
        main()
    except SystemExit as exc:
        if exc.code != INTERRUPT_EXIT_CODE:
            raise
        for worker in multiprocessing.active_children():
            worker.join()
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(INTERRUPT_EXIT_CODE)


def internal_error(exc: BaseException, debug: bool) -> None:
    if debug:
        click.echo(printable(mask_text(traceback.format_exc()), keep="\n\t"), err=True)
    click.echo(f"internal error: {mask_text(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}"
               f"{'' if debug else ' (rerun with --debug for the traceback)'}", err=True)
    sys.exit(1)


def interrupted() -> None:
    from lstmexp.interrupt import INTERRUPT_EXIT_CODE

    click.echo("error: interrupted; nothing half-written is kept: run the same command again", err=True)
    sys.exit(INTERRUPT_EXIT_CODE)


def usage_hint(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    return f" (see {ctx.command_path} --help)" if ctx is not None else ""


def fail(message: str, debug: bool, hint: str = "", code: int = 2) -> None:
    if debug:
        click.echo(mask_text(traceback.format_exc()), err=True)
    # One line, always: a library's multi-line text inside a message must not break the contract,
    # and a value echoed whole (a huge YAML value) must not flood the terminal.
    one_line = " ".join(line.strip() for line in message.splitlines() if line.strip())
    if len(one_line) > MAX_MESSAGE_CHARS:
        one_line = f"{one_line[:MAX_MESSAGE_CHARS]}... ({len(one_line)} characters)"
    click.echo(f"error: {printable(mask_text(one_line))}{printable(hint)}", err=True)
    sys.exit(code)
