"""One answer to "which is best": the report, `studies`, `predict` and the kept weights agree."""

from __future__ import annotations

import optuna
import torch

from lstmexp.report.run import load_report
from lstmexp.report.studies import best_trial_number, study_rows
from lstmexp.search.keep import ModelCatch, keep_model
from lstmexp.search.slots import TrialLedger
from lstmexp.spec import ExperimentSpec
from lstmexp.trial.weights import kept_trials, weights_dir
from lstmexp.vocabulary.attrs import CONFIG_ATTR
from tests.search_specs import sized

SIZES = {"batch_size": 32, "time_step": 8, "hidden_size": 16}
DISTRIBUTIONS = {name: optuna.distributions.CategoricalDistribution((8, 16, 32)) for name in SIZES}


def finish_trial(study: optuna.Study, sizes: dict[str, int], loss: float, seed: int, folder) -> None:
    """One trial as the objective ends it: figures recorded, the keep policy asked, then told its value."""
    study.enqueue_trial(sizes)
    trial = study.ask(DISTRIBUTIONS)
    trial.set_user_attr(CONFIG_ATTR, str(sorted(sizes.items())))
    for key, value in {"val_loss_best": loss, "val_loss_final": loss, "samples_per_s": 1000.0,
                       "peak_mem_bytes": 2**20, "train_seed": seed}.items():
        trial.set_user_attr(key, value)
    caught = ModelCatch()
    caught.state = {"weight": torch.full((2,), loss)}
    ledger = TrialLedger(study)  # the worker's read of the study
    keep_model(trial, sized(ExperimentSpec(), **sizes), caught, {"val_loss_best": loss}, loss, folder, ledger)
    study.tell(trial, loss)


def test_report_studies_predict_and_kept_weights_name_the_same_trial(tmp_path):
    url = f"sqlite:///{tmp_path}/best.db"
    study = optuna.create_study(study_name="one", storage=url)
    folder = weights_dir(url, "one")
    # one configuration over three seeds: its luckiest seed (trial 0) is not the one closest to its mean
    for seed, loss in enumerate([0.30, 0.70, 0.52]):
        finish_trial(study, SIZES, loss, seed, folder)
    finish_trial(study, {**SIZES, "batch_size": 8}, 0.80, 0, folder)
    report = load_report(url, "one")
    recommended = int(report.recommendations[0].config["trial"])
    assert recommended == 2  # 0.52 is closest to the mean 0.507
    assert recommended in {t.number for t in kept_trials(folder)}
    assert best_trial_number(url, "one") == recommended
    best_column = study_rows(optuna.storages.RDBStorage(url))[0][3]
    assert f"(trial {recommended})" in best_column and "over 3 seeds" in best_column
