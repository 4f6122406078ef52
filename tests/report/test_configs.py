"""Configurations, not trials, warnings and noise."""

from __future__ import annotations

import io
import shlex

import pytest
from rich.console import Console

from lstmexp.report.build import build_report
from lstmexp.report.configs import config_keys, config_table, tie_note
from lstmexp.report.load import load_from_study
from lstmexp.report.outline import outline
from lstmexp.report.recommend import reproduce_command
from lstmexp.report.render import render
from lstmexp.report.terminal import print_table
from tests.report_studies import make_study, make_trial

PARAMS = ["batch_size", "time_step", "hidden_size"]


def built(trials, **kwargs):
    loaded = load_from_study(make_study(trials))
    return build_report("s", "memory", {}, loaded.frame, distributions=loaded.distributions, ranges=loaded.ranges,
                        **kwargs)


def seeds(batch, losses, **attrs):
    """One configuration trained with seeds 0, 1, ...: one trial per loss."""
    return [make_trial(batch, 8, val_loss_best=loss, train_seed=seed, **attrs) for seed, loss in enumerate(losses)]


def test_trials_of_one_configuration_are_grouped_and_ranked_by_their_mean():
    # batch 16 has the single luckiest seed (0.30) but the worse mean (0.50 vs 0.40)
    trials = seeds(16, [0.30, 0.60, 0.60]) + seeds(32, [0.39, 0.40, 0.41])
    frame = load_from_study(make_study(trials)).frame
    table = config_table(frame, PARAMS)
    assert table["batch_size"].tolist() == [32, 16] and table["seeds"].tolist() == [3, 3]
    assert table["val_loss_best"].round(6).tolist() == [0.4, 0.5]
    assert table["val_loss_best_sd"].iloc[0] == pytest.approx(0.01)
    assert table["trial"].iloc[0] == 4  # the seed closest to the mean (0.40): trial 4
    assert tie_note(table).startswith("tie:")  # gap 0.10, but batch 16's seeds spread by sd 0.17
    apart = seeds(16, [0.59, 0.60, 0.61]) + seeds(32, [0.39, 0.40, 0.41])
    assert tie_note(config_table(load_from_study(make_study(apart)).frame, PARAMS)) == ""  # gap 0.2 > sd 0.01


def test_the_recorded_config_key_wins_over_the_parameters():
    trials = [make_trial(16, 8, config="a"), make_trial(16, 8, config="b"), make_trial(32, 8)]
    frame = load_from_study(make_study(trials)).frame
    keys = config_keys(frame, PARAMS)
    assert keys.iloc[0] == "a" and keys.iloc[1] == "b" and keys.iloc[2] == "batch_size=32, time_step=8, hidden_size=16"
    assert len(config_table(frame, PARAMS)) == 3


def test_the_recommendation_is_the_best_mean_and_names_a_tie():
    trials = seeds(16, [0.30, 0.60, 0.60]) + seeds(32, [0.45, 0.46, 0.47])
    report = built(trials)
    accurate = report.recommendations[0]
    assert accurate.config["batch_size"] == 32 and accurate.config["seeds"] == 3
    assert "0.46 ± 0.01 over 3 seeds" in accurate.why
    assert any(w.startswith("tie:") for w in accurate.warnings)


def test_every_reproduce_command_has_the_seed_and_every_searched_setting():
    row = {"batch_size": 32, "time_step": 8, "hidden_size": 16, "train.lr": 0.003, "model.num_layers": 2,
           "normalization": "revin", "train_seed": 7}
    spec = {"train": {"epochs": 4, "seed": 0}}
    words = shlex.split(reproduce_command(row, spec, [*PARAMS, "normalization", "model.num_layers", "train.lr"]))
    assert words[:8] == ["lstmexp", "run", "--batch-size", "32", "--time-step", "8", "--hidden-size", "16"]
    overrides = [w for i, w in enumerate(words) if i > 0 and words[i - 1] == "-o"]
    assert set(overrides) == {"train.epochs=4", "train.lr=0.003", "model.num_layers=2",
                              'data.normalization="revin"', "train.seed=7"}
    assert reproduce_command({**row, "reproduce": "lstmexp run --exact"}, spec) == "lstmexp run --exact"
    without = shlex.split(reproduce_command({"batch_size": 8}, {"train": {"seed": 3}}))
    assert without[-2:] == ["-o", "train.seed=3"]  # no train_seed recorded: the spec's seed


def test_every_searched_parameter_reaches_tables_importance_and_recommendations():
    """A search over train.lr and model.num_layers records and reports them."""
    trials = [make_trial(b, 8, extra={"train.lr": lr, "model.num_layers": layers},
                         val_loss_best=0.1 + abs(lr - 0.001) * 50 + 0.01 * layers + 0.001 * b / 16,
                         samples_per_s=100.0 * b / layers)
              for b in (16, 32) for lr in (0.0003, 0.001, 0.003) for layers in (1, 2, 3)]
    report = built(trials)
    assert report.params == ["batch_size", "time_step", "hidden_size", "model.num_layers", "train.lr"]
    assert {"train.lr", "model.num_layers"} <= set(report.tradeoffs)
    assert {"train.lr", "model.num_layers"} <= set(report.configs.columns)
    assert {"train.lr", "model.num_layers"} <= set(report.importance["param"])
    best = report.recommendations[0]
    assert best.config["train.lr"] == pytest.approx(0.001) and best.config["model.num_layers"] == 1
    assert "-o train.lr=0.001" in best.command and "-o model.num_layers=1" in best.command
    markdown = render(outline(report), "markdown")
    assert "## Trade-offs by train.lr" in markdown and "train.lr=0.001" in markdown


def test_a_best_value_at_the_edge_of_its_range_says_widen_it():
    trials = [make_trial(b, 8, extra={"model.num_layers": layers}, val_loss_best=0.5 - 0.1 * layers)
              for b in (16, 32) for layers in (1, 2, 3)]
    warnings = built(trials).recommendations[0].warnings
    assert any("model.num_layers=3 is the largest value searched: widen the range" in w for w in warnings)
    assert not any("batch_size" in w for w in warnings)  # 16 lies inside the searched choices (1 ... 512)
    inner = [make_trial(16, 8, extra={"model.num_layers": layers}, val_loss_best=abs(layers - 2) + 0.1)
             for layers in (1, 2, 3)]
    assert not any("num_layers" in w for w in built(inner).recommendations[0].warnings)


def test_negative_skill_names_the_likely_fix():
    trials = [make_trial(b, 8, test_skill=-228.0, val_loss_best=0.1 * b) for b in (16, 32)]
    warnings = built(trials).recommendations[0].warnings
    assert any("negative skill (-228)" in w and "revin" in w and "season" in w for w in warnings)
    assert not any("skill" in w for w in built([make_trial(16, 8, test_skill=0.3)]).recommendations[0].warnings)


def test_fastest_within_that_repeats_the_most_accurate_says_why_it_adds_nothing():
    same = [make_trial(16, 8, val_loss_best=0.1, samples_per_s=500.0), make_trial(32, 8, val_loss_best=0.5,
                                                                                  samples_per_s=900.0)]
    fastest = built(same).recommendations[1]
    assert fastest.config["batch_size"] == 16 and any("adds nothing" in w for w in fastest.warnings)
    different = [make_trial(16, 8, val_loss_best=0.100, samples_per_s=500.0),
                 make_trial(32, 8, val_loss_best=0.105, samples_per_s=900.0)]
    fastest = built(different).recommendations[1]
    assert fastest.config["batch_size"] == 32 and not fastest.warnings


def test_contended_trials_are_flagged_left_out_of_speed_picks_and_bannered():
    calm = [make_trial(16, 8, samples_per_s=1000.0, contended=False, torch_threads=1)]
    busy = [make_trial(32, 8, samples_per_s=50000.0, contended=True, contention_reason="load 3.1 on 2 cores",
                       torch_threads=1) for _ in range(3)]
    report = built(calm + busy)
    fastest = report.recommendations[1]
    assert fastest.config["batch_size"] == 16 and "3 contended trials left out" in fastest.why
    assert report.banner.startswith("WARNING: 3 of 4 trials") and "train.threads" in report.banner
    text = render(outline(report), "table")
    assert "torch threads used by the trials: 1" in text and "WARNING: 3 of 4" in text
    assert "contended" in report.trials.columns and report.trials["contended"].sum() == 3
    assert built(calm).banner == ""  # an older or quiet study gets none


def test_the_banner_names_the_commonest_reason_whatever_its_figures():
    calm = [make_trial(16, 8, samples_per_s=1000.0, contended=False, contention_reason="") for _ in range(2)]
    busy = [make_trial(32, 8, samples_per_s=5e4, contended=True, contention_reason=f"other processes used {p}% of"
                       " the CPU (limit 25%)") for p in (55, 61, 58)]
    busy.append(make_trial(64, 8, samples_per_s=6e4, contended=True, contention_reason="steal 9% (limit 5%)"))
    banner = built(calm + busy).banner
    assert "4 of 6 trials" in banner and "(mostly: other processes used 55% of the CPU (limit 25%))" in banner


def test_terminal_claims_then_answer_and_fits_100_columns():
    """The claims table comes first, then the answer; every line fits a 100-column rich Console."""
    trials = [make_trial(b, t, h, extra={"train.lr": lr}, val_loss_best=0.1 * b / t + lr, samples_per_s=10.0 * b)
              for b in (16, 64) for t in (8, 16) for h in (16, 32) for lr in (0.001, 0.003)]
    shape = outline(built(trials))
    console = Console(width=100, record=True, file=io.StringIO(), force_terminal=False)
    print_table(shape, console)
    text = console.export_text()
    too_wide = [line for line in text.splitlines() if len(line) > 100 and not line.lstrip().startswith("lstmexp run")]
    assert not too_wide, too_wide
    order = [text.index(m) for m in ("Claims", "C5 ", "Answer", "most accurate:", "lstmexp run", "Configurations")]
    assert order == sorted(order)


def test_no_empty_sections_and_captions_name_only_their_columns():
    trials = [make_trial(b, 8, achieved_gflops=1.5 * b) for b in (16, 32)]
    shape = outline(built(trials))
    assert all(not s.frame.empty or s.lines for s in shape.sections)
    extra = next(s for s in shape.sections if s.key == "tradeoffs_extra_batch_size")
    assert extra.title == "GFLOP/s by batch_size (medians)"
    assert "loss" not in extra.caption and "skill" not in extra.caption  # its table has neither


def test_a_budget_that_ended_the_study_is_said_first():
    report = built([make_trial(16, 8), make_trial(32, 8)], study_attrs={"budget_stop": "max_minutes 30 reached"})
    text = render(outline(report), "table")
    assert text.index("the study's budget ended it: max_minutes 30 reached") < text.index("most accurate:")
    assert "budget" not in render(outline(built([make_trial(16, 8)])), "table")


def test_a_pruned_seed_counts_at_its_last_val_loss_in_its_configurations_mean():
    # batch 16: two lucky seeds (0.07, 0.09) and a third pruned at 0.42; batch 32: three steady seeds near 0.15
    pruned = make_trial(16, 8, state="pruned", val_loss_best=0.40, val_loss_final=0.42, train_seed=2)
    trials = [*seeds(16, [0.07, 0.09]), pruned]
    trials += seeds(32, [0.14, 0.15, 0.16])
    table = config_table(load_from_study(make_study(trials)).frame, PARAMS)
    assert table["batch_size"].tolist() == [32, 16]
    assert table["seeds"].tolist() == [3, 3] and table["pruned"].tolist() == [0, 1]
    assert table["val_loss_best"].iloc[1] == pytest.approx((0.07 + 0.09 + 0.42) / 3)
    assert table["trial"].iloc[1] in (0, 1)  # the representative is a completed seed, never the pruned one
    report = built(trials + seeds(64, [0.9]))
    assert "over 3 seeds" in report.recommendations[0].why
    only_pruned = make_trial(128, 8, state="pruned", val_loss_best=0.01, val_loss_final=0.01)
    ranked = config_table(load_from_study(make_study([*trials, only_pruned])).frame, PARAMS)
    assert 128 not in ranked["batch_size"].tolist()


def test_a_configuration_measured_once_that_outranks_a_fully_measured_one_is_flagged_and_the_rule_is_stated():
    trials = seeds(16, [0.21]) + seeds(32, [0.24, 0.25, 0.26])
    report = built(trials)
    accurate = report.recommendations[0]
    assert accurate.config["batch_size"] == 16
    assert any("1 of the 3 seeds" in w and "--repeats 3" in w for w in accurate.warnings)
    text = render(outline(report), "markdown")
    assert "a pruned seed counts at its last val loss" in text
    assert "1 of the 3 seeds" in text
    steady = built(seeds(16, [0.21, 0.22, 0.23]) + seeds(32, [0.24, 0.25, 0.26]))
    assert not any("seeds that configuration" in w for w in steady.recommendations[0].warnings)


def test_the_report_says_the_share_of_trials_still_improving_at_their_last_epoch():
    trials = [make_trial(16, 8, best_epoch=4, epochs_run=4), make_trial(32, 8, best_epoch=2, epochs_run=7),
              make_trial(64, 8, best_epoch=8, epochs_run=8)]
    text = render(outline(built(trials)), "markdown")
    assert "2 of 3 completed trials (67%) were still improving at their last epoch" in text
    assert "-o train.epochs=16" in text


def test_a_searched_float_reads_to_4_significant_figures_and_the_command_keeps_every_digit():
    from lstmexp.report.answer import answer_of

    lr = 0.002885652688254664
    report = built([make_trial(16, 8, extra={"train.lr": lr}), make_trial(32, 8, extra={"train.lr": 0.001},
                                                                            val_loss_best=0.9)])
    pick = answer_of(report).picks[0]
    assert "train.lr=0.002886" in pick.setting and str(lr) not in pick.setting
    assert f"train.lr={lr}" in pick.command


def test_a_mean_over_seeds_prints_four_figures_and_never_a_zero_spread():
    from lstmexp.report.configs import mean_text

    same = {"val_loss_best": 0.0300812, "val_loss_best_sd": 0.0, "seeds": 2}
    assert mean_text(same) == "0.03008 over 2 seeds (they agree to every digit)"
    spread = {"val_loss_best": 0.0785812, "val_loss_best_sd": 0.0250321, "seeds": 3, "pruned": 1}
    assert mean_text(spread) == "0.07858 ± 0.02503 over 3 seeds (1 pruned, at its last val loss)"
    assert mean_text({"val_loss_best": 0.2116, "val_loss_best_sd": float("nan"), "seeds": 1}) == "0.2116 over 1 seed"
