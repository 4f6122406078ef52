"""CSV/Parquet loading: modes, time column, splits by fractions/rows/dates, and every bad-data error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lstmexp.data import load_series
from lstmexp.data.files import load_table
from lstmexp.errors import DataError, SpecError
from lstmexp.spec import DataSpec, load_spec
from lstmexp.trial.record import trial_figures
from tests.conftest import REPO, SHARED_DATA, needs_shared_data

CPU = torch.device("cpu")


def write_frame(path: Path, rows: int = 120, **changes: object) -> Path:
    """An hourly frame: time, two numeric features a, b, a target y and a text column."""
    frame = pd.DataFrame(
        {
            "time": pd.date_range("2020-01-01", periods=rows, freq="h").astype(str),
            "a": np.arange(rows, dtype=float),
            "b": np.arange(rows, dtype=float) * 2,
            "label": ["x"] * rows,
            "y": -np.arange(rows, dtype=float),
        }
    )
    for column, value in changes.items():
        frame[column] = value
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


def spec(path: Path, **fields: object) -> DataSpec:
    return DataSpec.model_validate({"path": str(path), "target": "y", "time_column": "time", **fields})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_both_formats_load_with_numeric_features_by_default(tmp_path, suffix):
    series = load_series(spec(write_frame(tmp_path / f"d{suffix}"), mode="MS"), CPU)
    assert series.input_columns == ["a", "b", "y"]  # numeric columns; time and label left out
    assert series.target_columns == ["y"]
    assert series.bounds == {"train": (0, 84), "val": (84, 102), "test": (102, 120)}


def test_modes_choose_inputs_and_outputs(tmp_path):
    path = write_frame(tmp_path / "d.csv")
    single = load_series(spec(path, mode="S"), CPU)
    assert (single.input_columns, single.target_columns) == (["y"], ["y"])
    multi = load_series(spec(path, mode="M", target=None), CPU)
    assert (multi.input_columns, multi.target_columns) == (["a", "b", "y"], ["a", "b", "y"])
    chosen = load_series(spec(path, mode="MS", features=["b"], target=["y", "a"]), CPU)
    assert (chosen.input_columns, chosen.target_columns) == (["b", "y", "a"], ["y", "a"])


def test_file_needs_a_target_unless_mode_m(tmp_path):
    with pytest.raises(SpecError, match=r"mode S needs data.target"):
        load_spec(None, [f"data.path={tmp_path / 'd.csv'}"])


def test_unsorted_time_column_is_an_error_naming_the_row(tmp_path):
    times = pd.date_range("2020-01-01", periods=120, freq="h").astype(str).tolist()
    times[50], times[51] = times[51], times[50]
    # Data row 51 is line 53 of the file: the header is line 1.
    with pytest.raises(DataError, match=r"time column 'time' is not sorted: .* at line 53 of .*sort the file by time"):
        load_series(spec(write_frame(tmp_path / "d.csv", time=times)), CPU)


def test_duplicate_timestamps_are_an_error(tmp_path):
    times = pd.date_range("2020-01-01", periods=120, freq="h").astype(str).tolist()
    times[7] = times[6]
    repeated = r"repeats 2020-01-01 06:00:00 at line 9 of .* \(first at line 8; 1 repeated date\)"
    with pytest.raises(DataError, match=repeated):
        load_series(spec(write_frame(tmp_path / "d.csv", time=times)), CPU)


def test_split_by_rows_leaves_later_rows_unused_and_fits_scaler_on_train(tmp_path):
    path = write_frame(tmp_path / "d.csv")
    series = load_series(spec(path, mode="MS", split={"rows": {"train": 60, "val": 20, "test": 20}}), CPU)
    assert series.bounds == {"train": (0, 60), "val": (60, 80), "test": (80, 100)}
    assert series.scaler.offset[0] == pytest.approx(29.5)  # mean of a over rows 0..59 only
    with pytest.raises(DataError, match=r"split.rows asks for 130 rows .* the data has 120; lower the counts"):
        load_series(spec(path, split={"rows": {"train": 90, "val": 20, "test": 20}}), CPU)


def test_split_by_dates(tmp_path):
    path = write_frame(tmp_path / "d.csv")
    dates = {"val": "2020-01-03", "test": "2020-01-04", "end": "2020-01-05"}
    series = load_series(spec(path, split={"dates": dates}), CPU)
    assert series.bounds == {"train": (0, 48), "val": (48, 72), "test": (72, 96)}
    with pytest.raises(DataError, match=r"leaves the train split empty"):
        load_series(spec(path, split={"dates": {"val": "2019-01-01", "test": "2020-01-02"}}), CPU)
    with pytest.raises(SpecError, match=r"dates must increase"):
        load_spec(None, ["data.time_column=time", "data.split.dates={val: '2020-02-01', test: '2020-01-01'}"])


def test_builtin_datasets_split_by_rows_but_not_by_dates():
    series = load_series(DataSpec(rows=1000, split={"rows": {"train": 500, "val": 200, "test": 100}}), CPU)
    assert series.bounds == {"train": (0, 500), "val": (500, 700), "test": (700, 800)}
    dated = DataSpec(time_column="t", split={"dates": {"val": "2020-01-01", "test": "2020-02-01"}})
    with pytest.raises(DataError, match=r"built-in datasets have no time column"):
        load_series(dated, CPU)


def test_window_counts_with_horizon_and_lookback(tmp_path):
    path = write_frame(tmp_path / "d.csv")
    rows = {"rows": {"train": 60, "val": 30, "test": 30}}
    plain = load_series(spec(path, split=rows, lookback=False), CPU)  # windows inside their split
    back = load_series(spec(path, split=rows), CPU)  # the default: inputs may reach back
    for t, h in ((8, 1), (8, 5), (20, 10)):
        assert plain.sample_starts("val", t, h).numel() == 30 - t - h + 1  # N - T - h + 1
        assert back.sample_starts("val", t, h).numel() == 30 - h + 1  # inputs reach back into train
        assert plain.sample_starts("train", t, h).numel() == back.sample_starts("train", t, h).numel()


def test_missing_file_empty_file_and_wrong_suffix(tmp_path):
    with pytest.raises(DataError, match=r"data file .*nope.csv does not exist; check data.path"):
        load_series(spec(tmp_path / "nope.csv"), CPU)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty.csv is empty"):
        load_series(spec(tmp_path / "empty.csv"), CPU)
    (tmp_path / "header.csv").write_text("time,a,y\n")
    with pytest.raises(DataError, match=r"header.csv has no rows"):
        load_series(spec(tmp_path / "header.csv"), CPU)
    with pytest.raises(DataError, match=r"neither .csv nor .parquet"):
        load_series(spec(tmp_path / "d.xlsx"), CPU)


def test_unknown_column_names_close_matches(tmp_path):
    path = write_frame(tmp_path / "d.csv")
    expected = r"data.target: no column 'Y' .*; did you mean y\? columns: time, a, b, label, y"
    with pytest.raises(DataError, match=expected):
        load_series(spec(path, target="Y"), CPU)
    with pytest.raises(DataError, match=r"data.features: no column 'bb'.*did you mean b\?"):
        load_series(spec(path, features=["a", "bb"]), CPU)


def test_non_numeric_feature_columns_are_listed(tmp_path):
    path = write_frame(tmp_path / "d.csv")
    with pytest.raises(DataError, match=r"non-numeric columns label, time; leave them out"):
        load_series(spec(path, features=["a", "label", "time"], time_column=None), CPU)


def test_missing_values_are_counted_and_ffill_accepts_them(tmp_path):
    values = np.arange(120, dtype=float)
    values[[30, 31, 70]] = np.nan
    path = write_frame(tmp_path / "d.csv", a=values)
    # Data row 30 is line 32 of the file (the header is line 1).
    with pytest.raises(DataError, match=r"3 missing values in .* \(first at line 32 of .*\); set -o data.fill=ffill"):
        load_series(spec(path, mode="MS"), CPU)
    series = load_series(spec(path, mode="MS", fill="ffill", scaling="none"), CPU)
    assert series.inputs[30:33, 0].tolist() == [29.0, 29.0, 32.0]
    values[0] = np.nan
    with pytest.raises(DataError, match=r"starts with missing values"):
        load_series(spec(write_frame(tmp_path / "e.csv", a=values), mode="MS", fill="ffill"), CPU)
    one = np.arange(120, dtype=float)
    one[5] = np.nan
    with pytest.raises(DataError, match=r"^1 missing value in .* \(first at line 7 of "):
        load_series(spec(write_frame(tmp_path / "f.csv", y=one)), CPU)


def test_too_few_rows_for_time_step_plus_horizon_gives_the_numbers(tmp_path):
    series = load_series(spec(write_frame(tmp_path / "d.csv"), lookback=False), CPU)  # windows inside the split
    with pytest.raises(DataError, match=r"the val split has 18 rows, too few for time_step=12 \+ horizon=7"):
        series.sample_starts("val", 12, 7)


def test_bad_data_writes_nothing_to_any_study(tmp_path, cli, workdir):
    path = write_frame(tmp_path / "d.csv", y=[np.nan] * 120)
    storage = workdir / "s.db"
    result = cli("search", "-o", f"data.path={path}", "-o", "data.target=y", "-o", "data.time_column=time",
                 "--storage", f"sqlite:///{storage}", "--trials", "1")
    assert result.code == 2
    assert result.err.strip().startswith("error: 120 missing values") and "Traceback" not in result.err
    if storage.exists():  # the storage may be created, but no study may be in it
        import optuna

        assert optuna.get_all_study_names(f"sqlite:///{storage}") == []


@needs_shared_data()
def test_etth1_benchmark_split_gives_8640_2880_2880_rows():
    etth1 = str(SHARED_DATA / "ETTh1.csv")
    data = load_spec(REPO / "experiments" / "etth1_s96.yaml", [f"data.path={etth1}"]).data
    series = load_series(data, CPU)
    assert {k: series.split_rows(k) for k in ("train", "val", "test")} == {"train": 8640, "val": 2880, "test": 2880}
    assert series.input_columns == ["OT"] and data.horizon == 96 and data.lookback
    assert series.sample_starts("test", 96, 96).numel() == 2880 - 96 + 1
    # The same split by dates: 360, 120 and 120 days of 24 rows from 2016-07-01.
    dates = "data.split={dates: {val: '2017-06-26', test: '2017-10-24', end: '2018-02-21'}}"
    dated = load_spec(REPO / "experiments" / "etth1_s96.yaml", [f"data.path={etth1}", dates]).data
    assert load_series(dated, CPU).bounds == series.bounds


@needs_shared_data()
@pytest.mark.slow
def test_etth1_s96_spec_runs_end_to_end_tiny(cli, workdir):
    """The ETTh1 experiment spec through `lstmexp search`, kept tiny by overrides (one short trial)."""
    spec_path = REPO / "experiments" / "etth1_s96.yaml"
    result = cli("search", str(spec_path), "--storage", f"sqlite:///{workdir / 'e.db'}", "--trials", "1",
                 "-o", f"data.path={SHARED_DATA / 'ETTh1.csv'}", "-o", "train.epochs=1", "-o", "train.device=cpu",
                 "-o", "search.space.batch_size=[256]", "-o", "search.space.hidden_size=[4]",
                 "-o", "search.space.normalization=[last]", "-o", "data.horizon=24",
                 "-o", "search.space.time_step=[24]")
    assert result.code == 0, result.err
    import optuna

    trial = optuna.load_study(study_name="etth1_s96", storage=f"sqlite:///{workdir / 'e.db'}").trials[0]
    attrs = trial_figures(trial.user_attrs)
    assert attrs["mode"] == "S" and attrs["horizon"] == 24 and attrs["normalization"] == "last"
    assert trial.params["normalization"] == "last"
    assert 0 < attrs["test_mse"] < 10 and attrs["test_naive_mse"] > 0


def test_linear_and_time_interpolation_fill_gaps_between_neighbours(tmp_path):
    values = np.arange(120, dtype=float)
    values[[30, 31]] = np.nan
    path = write_frame(tmp_path / "d.csv", a=values)
    linear = load_series(spec(path, mode="MS", fill="linear", scaling="none"), CPU)
    assert linear.inputs[29:33, 0].tolist() == [29.0, 30.0, 31.0, 32.0]
    # by date: hourly rows up to row 31, then rows 9 hours apart after a 10-hour step: row 32 sits 10 of
    # the 19 hours from row 31 to row 33, not halfway
    times = pd.date_range("2020-01-01", periods=120, freq="h")
    uneven = pd.DatetimeIndex([*times[:32], *(times[32] + pd.Timedelta(hours=9) * np.arange(1, 89))])
    gap = np.arange(120, dtype=float)
    gap[32] = np.nan
    dated = write_frame(tmp_path / "t.csv", a=gap, time=uneven.astype(str))
    by_time = load_series(spec(dated, mode="MS", fill="time", scaling="none"), CPU)
    by_row = load_series(spec(dated, mode="MS", fill="linear", scaling="none"), CPU)
    assert by_row.inputs[32, 0].item() == 32.0
    assert by_time.inputs[32, 0].item() == pytest.approx(31 + 2 * 10 / 19)
    undated = write_frame(tmp_path / "u.csv", a=gap, time=["x"] * 120)
    with pytest.raises(DataError, match=r"data.fill=time .* no time column; use -o data.fill=linear"):
        load_series(spec(undated, mode="MS", fill="time", features=["a", "b"], time_column=None), CPU)


def test_integer_years_are_a_yearly_index_not_nanoseconds(tmp_path):
    path = tmp_path / "sunspots.csv"
    pd.DataFrame({"Year": np.arange(1700, 1820), "spots": np.abs(np.sin(np.arange(120))) * 100}).to_csv(path,
                                                                                                          index=False)
    table = load_table(DataSpec(path=str(path), target="spots"))
    assert table.time_column == "Year" and table.times.iloc[0] == pd.Timestamp("1700-01-01")
    assert table.times.iloc[-1] == pd.Timestamp("1819-01-01") and table.input_columns == ["spots"]


def test_year_and_quarter_columns_combine_into_one_quarterly_index(tmp_path):
    path = tmp_path / "macro.csv"
    rows = 120
    pd.DataFrame({"year": 1960 + np.arange(rows) // 4, "quarter": [f"Q{q}" for q in np.arange(rows) % 4 + 1],
                  "gdp": np.linspace(1, 2, rows) + np.sin(np.arange(rows))}).to_csv(path, index=False)
    table = load_table(DataSpec(path=str(path), target="gdp"))
    assert table.time_column == "year+quarter" and table.input_columns == ["gdp"]
    assert table.times.iloc[:2].tolist() == [pd.Timestamp("1960-01-01"), pd.Timestamp("1960-04-01")]
    monthly = tmp_path / "monthly.csv"
    pd.DataFrame({"Year": 2000 + np.arange(rows) // 12, "Month": np.arange(rows) % 12 + 1,
                  "y": np.sin(np.arange(rows))}).to_csv(monthly, index=False)
    assert load_table(DataSpec(path=str(monthly), target="y")).times.iloc[13] == pd.Timestamp("2001-02-01")
