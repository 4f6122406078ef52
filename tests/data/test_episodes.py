"""The built-in episode tasks: the adding problem (and its 0.167 baseline) and sequence classification."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmexp.data import load_series
from lstmexp.data.episodes import CLASSES, EpisodeSeries, make_adding, make_order_classes
from lstmexp.errors import DataError
from lstmexp.spec import DataSpec, load_spec
from lstmexp.trial.run import run_trial
from tests.search_specs import sized

CPU = torch.device("cpu")


def test_adding_problem_marks_one_value_in_each_half_and_sums_them():
    inputs, targets = make_adding(500, 20, seed=1)
    assert inputs.shape == (500, 20, 2)
    values, mask = inputs[..., 0], inputs[..., 1]
    assert (mask[:, :10].sum(1) == 1).all() and (mask[:, 10:].sum(1) == 1).all()
    np.testing.assert_allclose(targets, (values * mask).sum(1))
    assert values.min() >= 0 and values.max() <= 1


def test_always_predicting_one_scores_mse_of_about_0_167():
    _, targets = make_adding(20000, 50, seed=0)
    assert np.mean((targets - 1.0) ** 2) == pytest.approx(2 / 12, abs=0.005)
    series = EpisodeSeries("adding", 20000, seed=0, device=CPU)
    starts = series.sample_starts("test", 50)
    _, target = series.batch(starts, 50)
    naive = series.last_observed_target(starts)  # the baseline the trial's test_naive_mse uses
    assert torch.mean((target[:, 0] - naive) ** 2).item() == pytest.approx(0.167, abs=0.01)


def test_sequence_length_follows_time_step_unless_fixed():
    free = load_series(DataSpec(dataset="adding", rows=100), CPU)
    assert free.batch(free.sample_starts("train", 30), 30)[0].shape == (70, 30, 2)
    fixed = load_series(DataSpec(dataset="adding", rows=100, sequence_length=40), CPU)
    inputs, _ = fixed.batch(fixed.sample_starts("val", 10), 10)
    assert inputs.shape == (15, 10, 2)  # the last 10 of 40 steps
    with pytest.raises(DataError, match=r"time_step=50 exceeds data.sequence_length=40"):
        fixed.sample_starts("train", 50)
    with pytest.raises(DataError, match=r"set -o data.horizon=1, not 3"):
        fixed.sample_starts("train", 10, horizon=3)


def test_classify_labels_are_the_signs_of_the_marked_values():
    inputs, labels = make_order_classes(300, 25, seed=2)
    values, mask = inputs[..., 0], inputs[..., 1]
    first = mask[:, :5].argmax(1)
    assert (mask[:, :5].sum(1) == 1).all() and (mask[:, 12:].sum(1) == 1).all()
    second = 12 + mask[:, 12:].argmax(1)
    rows = np.arange(300)
    np.testing.assert_array_equal(labels, 2 * (values[rows, first] > 0) + (values[rows, second] > 0))
    assert set(labels.tolist()) == set(range(CLASSES))
    series = EpisodeSeries("classify", 300, seed=2, device=CPU)
    _, onehot = series.batch(series.sample_starts("train", 25), 25)
    assert onehot.shape == (210, 1, CLASSES) and (onehot.sum(-1) == 1).all()


def test_classification_trial_reports_accuracy_and_adding_trial_its_baseline():
    classify = load_spec(None, ["data.dataset=classify", "data.rows=400", "train.epochs=1", "train.device=cpu"])
    metrics = run_trial(sized(classify, 32, 10, 8)).figures()
    assert 0.0 <= metrics["val_accuracy"] <= 1.0 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert metrics["test_naive_mse"] == pytest.approx(0.1875)  # uniform probabilities: 3/16
    adding = load_spec(None, ["data.dataset=adding", "data.rows=2000", "train.epochs=1", "train.device=cpu"])
    metrics = run_trial(sized(adding, 64, 10, 8)).figures()
    assert metrics["test_naive_mse"] == pytest.approx(0.167, abs=0.02)
    assert "val_accuracy" not in metrics
