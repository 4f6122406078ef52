"""The options and spec loading that several commands share: SPEC, -o, --device, --seed, --repeats.

Command-line flags become spec overrides, so a flag is validated exactly as the `-o` form it stands for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from lstmexp.cli.launch import bounded
from lstmexp.vocabulary.choices import SIZE_PATHS

if TYPE_CHECKING:
    from lstmexp.spec import ExperimentSpec

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


def training_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--device, --seed, --repeats and -o: the options of every command that trains (search and run)."""
    for option in (override_option, repeats_option, seed_option, device_option):  # innermost first
        command = option(command)
    return command

