"""How commands start: library log levels, flag bounds (`--workers`, finite floats, the spec's ranges),
each worker's entry.

Imported by the CLI only inside its commands: nothing heavy is imported at module level.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import click

from lstmexp.bounds import BOUNDS, Bound, shown
from lstmexp.errors import LstmexpError
from lstmexp.storage.urls import mask_text

# Each worker is a torch process with its own memory and threads: more than a few per core only
# thrashes (and a typo such as --workers 1000 would start a thousand).
MAX_WORKERS_PER_CORE = 4
REPRODUCE_ENV = "LSTMEXP_REPRODUCE_BASE"  # the search's `lstmexp run ...` prefix, handed to worker processes


def quiet_libraries() -> None:
    """Optuna's log levels and warning filters, set once per process (the CLI's and each worker's).

    lstmexp prints its own line per trial, failures included: Optuna's INFO line per trial, and its
    warning with a traceback for each caught TrialFailure, would repeat them. Heartbeats (stale
    trial recovery on RDB storages) are marked experimental in Optuna 5 but are its documented way.
    """
    import logging
    import warnings

    import optuna

    from lstmexp.storage.optuna_compat import optimize_logger

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optimize_logger().setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def worker_process(spec_dict: dict[str, Any], storage_url: str, index: int) -> None:
    """One `--workers` process: a line per trial it finishes (a live bar per worker would interleave)."""
    from lstmexp.cli.progress import TrialLines
    from lstmexp.interrupt import INTERRUPT_EXIT_CODE, become_worker
    from lstmexp.search import run_search
    from lstmexp.spec import ExperimentSpec
    from lstmexp.text import SafeConsole

    become_worker()  # SIGTERM from the parent stops it; the parent prints the one line
    quiet_libraries()  # a spawned process starts with Python's defaults
    console = SafeConsole(stderr=True, soft_wrap=True)
    lines = TrialLines(console, prefix=f"[worker {index}] ", announce=False)
    try:
        run_search(ExperimentSpec.model_validate(spec_dict), storage_url, lines, worker_index=index,
                   reproduce_base=os.environ.get(REPRODUCE_ENV))
    except KeyboardInterrupt:
        sys.exit(INTERRUPT_EXIT_CODE)
    except LstmexpError as exc:
        console.print(f"[worker {index}] error: {mask_text(str(exc))}", markup=False, highlight=False)
        sys.exit(exc.exit_code)


def check_worker_count(workers: int) -> None:
    """Each worker is a torch process with its own memory: a few per core at most."""
    import os

    limit = MAX_WORKERS_PER_CORE * (os.cpu_count() or 1)
    if workers > limit:
        raise LstmexpError(f"--workers {workers} is more than {limit} ({MAX_WORKERS_PER_CORE} per core here); "
                           f"use at most {limit}")


def finite_flag(value: float, flag: str) -> float:
    """click's FloatRange lets nan through (every comparison with nan is false)."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", param_hint=flag)
    return value


def bounded(path: str) -> click.ParamType:
    """The click type of a flag that sets the spec field `path`: the field's own range (lstmexp.bounds)."""
    bound = BOUNDS[path]
    return BoundedInt(bound) if bound.integer else BoundedFloat(bound)


def refuse_above(kind: click.ParamType, bound: Bound, number: float, param: click.Parameter | None,
                 ctx: click.Context | None) -> None:
    """Past the bound: one line naming the bound, why, and the flag with the largest value it takes."""
    if not math.isfinite(number):
        kind.fail(f"{number} is not a finite number", param, ctx)
    if number > bound.high:
        flag = param.opts[0] if param is not None and param.opts else "the option"
        kind.fail(f"{shown(number)} is above the bound {shown(bound.high)} ({bound.why}); use {flag} "
                  f"{shown(bound.high)} or less", param, ctx)


class BoundedInt(click.IntRange):
    def __init__(self, bound: Bound) -> None:
        super().__init__(min=int(bound.low), max=int(bound.high))
        self.bound = bound

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        refuse_above(self, self.bound, click.INT.convert(value, param, ctx), param, ctx)
        return super().convert(value, param, ctx)


class BoundedFloat(click.FloatRange):
    def __init__(self, bound: Bound) -> None:
        super().__init__(min=bound.low, max=bound.high, min_open=bound.low_open)
        self.bound = bound

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        refuse_above(self, self.bound, click.FLOAT.convert(value, param, ctx), param, ctx)
        return super().convert(value, param, ctx)


def refuse_empty_values(command: click.Command, ctx: click.Context) -> None:
    """An empty flag value (`--max-memory ''`, a SPEC of '') means nothing: refuse it instead of reading
    it as "not given" (which would silently lift a limit or fall back to a default)."""
    for param in command.get_params(ctx):
        value = ctx.params.get(param.name or "")
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, str) and not v.strip() for v in values):
            if isinstance(param, click.Option):
                raise click.UsageError(f"{param.opts[0]} is empty; give a value or leave {param.opts[0]} out", ctx)
            raise click.UsageError(f"{param.human_readable_name} is empty; give a value", ctx)


class CheckedCommand(click.Command):
    """A command whose flags and arguments are never empty strings (see refuse_empty_values)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        refuse_empty_values(self, ctx)
        return rest


class CheckedGroup(click.Group):
    """A group whose commands (and sub-groups) refuse empty values too."""

    command_class = CheckedCommand
    group_class = type

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        refuse_empty_values(self, ctx)
        return rest
