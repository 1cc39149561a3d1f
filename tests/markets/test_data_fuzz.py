"""Property tests: whatever bar file a user gives, loading yields clean bars or our own error."""

import csv
import io
import tempfile
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from otemachi.core.errors import OtemachiError
from otemachi.markets import data
from tests.fuzz import FUZZ, outcome

HEADERS = ["timestamp", "Date", "open", "High", "low", "close", "volume", "symbol", "extra"]
stamps = st.one_of(
    st.datetimes(datetime(1990, 1, 1), datetime(2030, 1, 1)).map(lambda d: d.isoformat()),
    st.sampled_from(["", "NaT", "yesterday", "2024-13-40", "99999999999999999999"]),
    st.integers(-(10**12), 10**12).map(str),
    st.text(max_size=8),
)
numbers = st.one_of(
    st.floats(0.5, 500).map(repr),
    st.floats().map(repr),
    st.integers(-10, 10**9).map(str),
    st.sampled_from(["", "inf", "-inf", "nan", "Infinity", "1e400", "abc"]),
    st.text(max_size=5),
)
cells = st.one_of(stamps, numbers)


@st.composite
def csv_files(draw: st.DrawFn) -> str:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8))
    if draw(st.booleans()):  # mostly a plausible layout
        header = ["timestamp", "open", "high", "low", "close", "volume"]
    rows = draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=8))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _check(result: tuple[pd.DataFrame, data.ValidationReport] | OtemachiError) -> None:
    if isinstance(result, OtemachiError):
        return
    df, report = result
    assert len(df) >= 2 and list(df.columns) == data.COLUMNS
    assert np.isfinite(df.to_numpy()).all() and (df[data.PRICES] > 0).all().all()
    assert (df["volume"] >= 0).all() and (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert not df.index.isna().any() and df.index.is_unique and df.index.is_monotonic_increasing
    assert report.rows_in == len(df) + len(report.dropped)  # every dropped row is reported


@FUZZ
@given(text=csv_files(), suffix=st.sampled_from([".csv", ".txt", ""]))
def test_any_csv_loads_clean_or_fails_with_our_error(text: str, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bars{suffix}"
        path.write_text(text, encoding="utf-8")
        _check(outcome(lambda: data.load(str(path))))


@FUZZ
@given(blob=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".parquet", ".pq", ""]))
def test_any_bytes_load_clean_or_fail_with_our_error(blob: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bars{suffix}"
        path.write_bytes(data.PARQUET_MAGIC + blob if suffix == ".pq" else blob)
        _check(outcome(lambda: data.load(str(path))))


@FUZZ
@given(
    text=csv_files(),
    cut=st.integers(0, 4000),
    suffix=st.sampled_from([".parquet", ""]),
)
def test_any_parquet_loads_clean_or_fails_with_our_error(text: str, cut: int, suffix: str) -> None:
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bars{suffix}"
        raw.to_parquet(path)
        if cut:  # a truncated or damaged Parquet file
            blob = path.read_bytes()
            path.write_bytes(blob[: cut % max(len(blob), 1)])
        _check(outcome(lambda: data.load(str(path))))
        _check(outcome(lambda: data.validate(data.read_bars(path))))
