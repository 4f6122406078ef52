"""The `lstmexp` command group: its commands (one module each), and every error turned into one line.

Heavy libraries (torch, optuna, pandas, pydantic) are imported inside the commands so that
`lstmexp --help` answers at once. Errors a user can fix exit 2 with `error: ...` on stderr;
`--debug` adds the traceback (with storage passwords masked).
"""

from __future__ import annotations

import sys
import traceback

import click

from lstmexp import __version__
from lstmexp.cli.claims import claims
from lstmexp.cli.datasets import datasets
from lstmexp.cli.helptext import EPILOGS
from lstmexp.cli.launch import CheckedGroup
from lstmexp.cli.predict import predict
from lstmexp.cli.report import compare, report
from lstmexp.cli.run import run
from lstmexp.cli.search import search
from lstmexp.cli.studies import studies
from lstmexp.errors import Interrupted, LstmexpError
from lstmexp.storage.urls import mask_text
from lstmexp.text import printable

DEBUG_ENV = "LSTMEXP_DEBUG"
MAX_MESSAGE_CHARS = 1000

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


for command in (search, run, report, compare, datasets, studies, predict, claims):
    cli.add_command(command)


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
    from lstmexp.interrupt import INTERRUPT_EXIT_CODE

    try:
        main()
    except SystemExit as exc:
        if exc.code != INTERRUPT_EXIT_CODE:
            raise
        import logging  # only on this path: every other command starts and ends without them
        import multiprocessing
        import os

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
