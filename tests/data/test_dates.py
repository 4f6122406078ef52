"""Date columns found by their content, gaps in regular series, and CSV dialects named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmexp.data.dates import find_time_column, gap_note
from lstmexp.data.files import load_table
from lstmexp.data.summary import data_lines
from lstmexp.errors import DataError
from lstmexp.spec import DataSpec


def weekly_csv(path: Path, dates: pd.DatetimeIndex | list[str]) -> Path:
    rows = len(dates)
    frame = pd.DataFrame({"week": [str(d)[:10] for d in dates], "co2": np.linspace(300, 400, rows),
                          "YEAR": [int(str(d)[:4]) for d in dates]})
    frame.to_csv(path, index=False)
    return path


def spec(path: Path, **fields: object) -> DataSpec:
    return DataSpec.model_validate({"path": str(path), "target": "co2", **fields})


def test_a_date_column_is_found_without_being_named(tmp_path):
    path = weekly_csv(tmp_path / "d.csv", pd.date_range("2000-01-02", periods=80, freq="W"))
    table = load_table(spec(path))
    assert table.time_column == "week"
    assert table.times is not None and table.times.iloc[-1] == pd.Timestamp("2001-07-08")
    assert table.input_columns == ["co2"] and table.unused == ("YEAR",)  # mode S by default: YEAR is no input


def test_text_and_numeric_columns_are_not_dates():
    frame = pd.DataFrame({"label": ["a", "b", "c"], "year": [2001, 2002, 2003], "when": ["2001-01-01"] * 3})
    assert find_time_column(frame) == "when"
    assert find_time_column(frame[["label", "year"]]) is None


def test_unsorted_dates_are_an_error_with_the_file_line_even_unnamed(tmp_path):
    dates = [str(d)[:10] for d in pd.date_range("2000-01-02", periods=80, freq="W")]
    dates[40], dates[41] = dates[41], dates[40]
    path = weekly_csv(tmp_path / "d.csv", dates)
    # Data row 41 sits on line 43: the header is line 1 and rows count from 0.
    with pytest.raises(DataError, match=r"^time column 'week' is not sorted: .* at line 43 of .*; sort the file"):
        load_table(spec(path))


def test_repeated_dates_name_both_lines(tmp_path):
    dates = [str(d)[:10] for d in pd.date_range("2000-01-02", periods=80, freq="W")]
    dates[10] = dates[9]
    with pytest.raises(DataError, match=r"repeats 2000-03-05 00:00:00 at line 12 of .*\(first at line 11; 1 repeated"):
        load_table(spec(weekly_csv(tmp_path / "d.csv", dates)))


def test_missing_weeks_are_counted_with_the_longest_gap(tmp_path):
    dates = pd.date_range("2000-01-02", periods=200, freq="W")
    kept = dates.delete([*range(50, 100), *range(150, 159)])  # 59 weeks missing, the longest 50
    table = load_table(spec(weekly_csv(tmp_path / "d.csv", kept)))
    assert table.notes == (
        "59 missing weeks in 'week' between 2000-01-02 and 2003-10-26 (the longest gap: 50 weeks after "
        "2000-12-10); windows run across gaps as if the rows were consecutive: fill them in the file if that matters",
    )


def test_gap_units_follow_the_series():
    monthly = pd.Series(pd.date_range("2000-01-01", periods=40, freq="MS").delete([5]))
    assert gap_note(monthly, "m").startswith("1 missing month in 'm'")
    hourly = pd.Series(pd.date_range("2000-01-01", periods=100, freq="h").delete([10, 11, 50]))
    assert gap_note(hourly, "t").startswith("3 missing hours in 't'")
    quarter_hours = pd.Series(pd.date_range("2000-01-01", periods=100, freq="15min").delete([3]))
    assert gap_note(quarter_hours, "t").startswith("1 missing 15min step in 't'")
    business = pd.Series(pd.bdate_range("2000-01-03", periods=60))
    assert gap_note(business, "d") is None  # weekends are not holes
    one_missing = pd.Series(pd.bdate_range("2000-01-03", periods=60).delete([7]))
    assert gap_note(one_missing, "d").startswith("1 missing business day in 'd'")
    assert gap_note(pd.Series(pd.date_range("2000-01-01", periods=30, freq="D")), "d") is None


def test_semicolon_files_are_named_instead_of_no_numeric_columns(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("datum;wert\n2020-01-01;1,5\n2020-01-02;2,5\n2020-01-03;3,0\n")
    with pytest.raises(DataError, match=r"^.*eu.csv looks like a semicolon-separated file \(header 'datum;wert'\).*"
                                        r"read_csv\(.*sep=';', decimal=','\)"):
        load_table(DataSpec.model_validate({"path": str(path), "mode": "M"}))


def test_decimal_commas_are_named_with_the_column(tmp_path):
    path = tmp_path / "comma.csv"
    path.write_text('date,value\n2020-01-01,"1,5"\n2020-01-02,"2,5"\n2020-01-03,"3,25"\n')
    with pytest.raises(DataError, match=r"^column 'value' of .*comma.csv holds decimal commas \('1,5'\)"):
        load_table(DataSpec.model_validate({"path": str(path), "target": "value"}))


def test_study_start_lines_say_inputs_target_and_gaps(tmp_path):
    dates = pd.date_range("2000-01-02", periods=120, freq="W").delete([30])
    lines = data_lines(spec(weekly_csv(tmp_path / "d.csv", dates)))
    assert lines[0] == (
        f"data: {tmp_path / 'd.csv'} (119 rows, dates in 'week' from 2000-01-02 to 2002-04-14); "
        "inputs (mode S): co2; predicting co2; not used: YEAR (name inputs in data.features to use them)"
    )
    assert lines[1].startswith("note: 1 missing week in 'week'")
    builtin = data_lines(DataSpec())
    assert builtin == ["data: synthetic (built-in, 6,000 rows); inputs (mode MS): season, driver_a, driver_b, "
                       "load, y; predicting y"]
