"""`--log-to mlflow|tensorboard`: each trial's parameters, per-epoch curves and figures in that tool.

Off by default and never a hard dependency: the library is imported only when asked for, and a
missing one is a one-line error naming the pip command. The Optuna storage stays the source of
truth; these are copies for users who live in another tool. A logger is one more search observer
(trial started, epoch done, trial finished), so training knows nothing about it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstmexp.errors import LstmexpError
from lstmexp.search.tracker import check_tracker, fixes
from lstmexp.storage.urls import mask_text, mask_url
from lstmexp.trial.record import split_curves, trial_figures
from lstmexp.vocabulary.names import FAILURE_REASON, TRAIN_LOSS, VAL_LOSS

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from optuna.trial import FrozenTrial

    from lstmexp.spec import ExperimentSpec
    from lstmexp.training.loop import EpochRecord

# MLflow 3 refuses a plain file: store ("maintenance mode"); a SQLite file is its documented local store.
MLFLOW_DEFAULT_URI = "sqlite:///results/mlflow.db"
MLFLOW_ARTIFACTS = Path("results/mlartifacts")
TENSORBOARD_DIR = Path("results/tensorboard")
STATUS = {"complete": "FINISHED", "fail": "FAILED", "pruned": "KILLED"}


def require(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise LstmexpError(f"--log-to {extra} needs the {module} package: pip install 'lstmexp[{extra}]'")


def final_figures(trial: FrozenTrial) -> dict[str, float]:
    """The trial's scalar figures (finite numbers only): what the tools plot and compare."""
    return {key: float(value) for key, value in trial_figures(trial.user_attrs).items()
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)}


def curves_figure(trial: FrozenTrial) -> Figure | None:
    """Train and val loss per epoch, from the curves the trial recorded (None when it has none)."""
    from matplotlib.figure import Figure

    curves = split_curves(trial_figures(trial.user_attrs))[1]
    train, val = curves.get(TRAIN_LOSS), curves.get(VAL_LOSS)
    if not train or not val:
        return None
    figure = Figure(figsize=(5, 3.2))
    axes = figure.add_subplot()
    epochs = range(1, len(train) + 1)
    axes.plot(epochs, train, marker="o", label="train loss")
    axes.plot(epochs, val, marker="o", label="val loss")
    axes.set(xlabel="epoch", ylabel="MSE (scaled)", title=f"trial {trial.number}")
    axes.legend()
    figure.tight_layout()
    return figure


class MlflowLogger:
    """One MLflow run per trial, in an experiment named after the study."""

    def __init__(self, study_name: str) -> None:
        require("mlflow", "mlflow")
        from mlflow.tracking import MlflowClient

        logging.getLogger("mlflow").setLevel(logging.WARNING)  # its table-creation INFO lines are noise here
        self.uri = os.environ.get("MLFLOW_TRACKING_URI", MLFLOW_DEFAULT_URI)
        check_tracker(self.uri, MLFLOW_DEFAULT_URI)  # quickly, once: MLflow itself retries for minutes
        try:
            if self.uri.startswith("sqlite:///"):
                Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.client = MlflowClient(tracking_uri=self.uri)
            found = self.client.get_experiment_by_name(study_name)
            self.experiment_id = found.experiment_id if found else self.client.create_experiment(
                study_name, artifact_location=MLFLOW_ARTIFACTS.resolve().as_uri())
        except Exception as exc:  # MLflow's store refused the URI (a file store it no longer opens, bad auth...)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise LstmexpError(f"MLflow cannot log to {mask_url(self.uri)} (MLFLOW_TRACKING_URI): "
                               f"{mask_text(first).rstrip('.')}; "
                               f"{fixes(MLFLOW_DEFAULT_URI)}") from None
        self.runs: dict[int, str] = {}
        shown = mask_url(self.uri)
        self.where = f"MLflow at {shown} (experiment {study_name!r}; view: mlflow ui --backend-store-uri {shown})"

    def trial_started(self, number: int, spec: ExperimentSpec) -> None:
        run = self.client.create_run(self.experiment_id, run_name=f"trial {number}")
        self.runs[number] = run.info.run_id
        for key, value in spec.sizes().items():
            self.client.log_param(run.info.run_id, key, value)

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        run_id = self.runs[number]
        self.client.log_metric(run_id, TRAIN_LOSS, record.train_loss, step=record.epoch)
        self.client.log_metric(run_id, VAL_LOSS, record.val_loss, step=record.epoch)

    def trial_finished(self, trial: FrozenTrial) -> None:
        run_id = self.runs.pop(trial.number, None)
        if run_id is None:  # failed before training started
            run_id = self.client.create_run(self.experiment_id, run_name=f"trial {trial.number}").info.run_id
        for key, value in trial.params.items():
            self.client.log_param(run_id, key, value)
        for key, value in final_figures(trial).items():
            self.client.log_metric(run_id, f"final/{key}", value)
        figure = curves_figure(trial)
        if figure is not None:
            self.client.log_figure(run_id, figure, "loss_curves.png")
        self.client.set_terminated(run_id, status=STATUS.get(trial_state(trial), "FINISHED"))

    def close(self) -> None:
        for run_id in self.runs.values():  # interrupted trials
            self.client.set_terminated(run_id, status="KILLED")


class TensorboardLogger:
    """One TensorBoard run folder per trial (results/tensorboard/STUDY/trial-NNNN), hparams at its end."""

    def __init__(self, study_name: str) -> None:
        require("tensorboard", "tensorboard")
        self.root = TENSORBOARD_DIR / study_name
        try:  # before the first trial: a path that cannot hold the run folders is one line, not a failed trial
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LstmexpError(f"--log-to tensorboard cannot make {self.root} ({exc.strerror or type(exc).__name__}); "
                               "move what is in the way, or drop --log-to tensorboard") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise LstmexpError(f"--log-to tensorboard cannot write into {self.root}; "
                               "make it writable, or drop --log-to tensorboard")
        self.writers: dict[int, Any] = {}
        self.where = f"TensorBoard files in {self.root} (view: tensorboard --logdir {self.root})"

    def writer(self, number: int) -> Any:
        if number not in self.writers:
            from torch.utils.tensorboard import SummaryWriter

            self.writers[number] = SummaryWriter(log_dir=str(self.root / f"trial-{number:04d}"))
        return self.writers[number]

    def trial_started(self, number: int, spec: ExperimentSpec) -> None:
        self.writer(number).add_text("params", ", ".join(f"{k}={v}" for k, v in spec.sizes().items()))

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        writer = self.writer(number)
        writer.add_scalar("loss/train", record.train_loss, record.epoch)
        writer.add_scalar("loss/val", record.val_loss, record.epoch)

    def trial_finished(self, trial: FrozenTrial) -> None:
        writer = self.writer(trial.number)
        figures = {f"final/{k}": v for k, v in final_figures(trial).items()}
        writer.add_hparams(dict(trial.params), figures or {"final/none": 0.0}, run_name=".")
        figure = curves_figure(trial)
        if figure is not None:
            writer.add_figure("loss_curves", figure)
        writer.close()
        del self.writers[trial.number]

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def trial_state(trial: FrozenTrial) -> str:
    return "fail" if FAILURE_REASON in trial.user_attrs else trial.state.name.lower()


def open_logger(target: str, study_name: str) -> MlflowLogger | TensorboardLogger:
    """The logger for `--log-to TARGET`; a one-line error when its library is missing."""
    return MlflowLogger(study_name) if target == "mlflow" else TensorboardLogger(study_name)


class LoggingObserver:
    """The search's observer (the live display or the trial lines) plus a logger, fed the same events."""

    def __init__(self, shown: Any, logger: MlflowLogger | TensorboardLogger, say: Callable[[str], None]) -> None:
        self.shown = shown
        self.logger = logger
        self.say = say

    def study_ready(self, study_name: str, done: int, target: int) -> None:
        self.shown.study_ready(study_name, done, target)
        self.say(f"logging each trial to {self.logger.where}")

    def trial_started(self, number: int, spec: ExperimentSpec) -> None:
        self.shown.trial_started(number, spec)
        self.logger.trial_started(number, spec)

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        self.shown.epoch_done(number, record, epochs)
        self.logger.epoch_done(number, record, epochs)

    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None:
        self.shown.trial_finished(trial, best)
        self.logger.trial_finished(trial)


@contextlib.contextmanager
def logged(shown: Any, target: str | None, study_name: str, workers: int, say: Callable[[str], None]) -> Iterator[Any]:
    """The observer to give the search: `shown` alone, or with the `--log-to` logger (closed at the end)."""
    if target is None:
        yield shown
        return
    if workers > 1:
        raise LstmexpError(f"--log-to {target} logs from the process that trains, so it needs --workers 1; "
                           "drop one of the two flags")
    logger = open_logger(target, study_name)
    try:
        yield LoggingObserver(shown, logger, say)
    finally:
        logger.close()
