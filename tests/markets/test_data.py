from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.markets import data


def _bars(n: int = 6) -> pd.DataFrame:
    idx = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    close = np.linspace(100, 105, n)
    return pd.DataFrame(
        {"open": close - 0.5, "high": close + 1, "low": close - 1, "close": close, "volume": 1e3},
        index=idx,
    )


def test_clean_bars_pass_untouched() -> None:
    df, report = data.validate(_bars())
    assert report.clean and len(df) == 6


def test_unsorted_rows_are_sorted_and_reported() -> None:
    df, report = data.validate(_bars().iloc[::-1])
    assert report.sorted_rows and df.index.is_monotonic_increasing
    with pytest.raises(InvalidInput, match="not sorted"):
        data.validate(_bars().iloc[::-1], repair=False)


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda d: pd.concat([d, d.iloc[[2]]]).sort_index(kind="stable"), "duplicate timestamp"),
        (lambda d: d.assign(close=d["close"].where(d.index != d.index[3])), "NaN"),
        (lambda d: d.assign(open=d["open"].where(d.index != d.index[3], -1.0)), "non-positive"),
        (lambda d: d.assign(volume=d["volume"].where(d.index != d.index[3], -5.0)), "negative"),
    ],
)
def test_bad_rows_are_dropped_and_reported(mutate, why) -> None:  # type: ignore[no-untyped-def]
    df, report = data.validate(mutate(_bars()))
    assert len(df) == 5 or why == "duplicate timestamp"
    assert len(report.dropped) == 1 and why in report.dropped[0]
    with pytest.raises(InvalidInput, match=why):
        data.validate(mutate(_bars()), repair=False)


def test_high_and_low_are_repaired_and_reported() -> None:
    bad = _bars()
    bad.iloc[1, bad.columns.get_loc("high")] = bad["close"].iloc[1] - 2
    bad.iloc[4, bad.columns.get_loc("low")] = bad["open"].iloc[4] + 0.1
    df, report = data.validate(bad)
    assert len(df) == 6 and len(report.repaired) == 2
    assert df["high"].iloc[1] == df["close"].iloc[1]
    assert df["low"].iloc[4] == df["open"].iloc[4]
    with pytest.raises(InvalidInput, match="high outside"):
        data.validate(bad, repair=False)


def test_csv_and_parquet_round_trip_with_symbol(tmp_path: Path) -> None:
    a, b = _bars().assign(symbol="AAA"), (_bars() * 2).assign(symbol="BBB")
    both = pd.concat([a, b]).reset_index()
    both.to_csv(tmp_path / "bars.csv", index=False)
    both.to_parquet(tmp_path / "bars.parquet")
    for name in ("bars.csv", "bars.parquet"):
        df, _ = data.load(str(tmp_path / name), symbol="BBB")
        assert np.allclose(df["close"], b["close"])
        with pytest.raises(InvalidInput, match="pick one with --symbol"):
            data.load(str(tmp_path / name))
    with pytest.raises(NotFound, match="symbol 'CCC'"):
        data.load(str(tmp_path / "bars.csv"), symbol="CCC")


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInput, match="cannot read"):
        data.load(str(bad))
    (tmp_path / "nocol.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="timestamp"):
        data.load(str(tmp_path / "nocol.csv"))
    with pytest.raises(NotFound):
        data.load(str(tmp_path / "absent.csv"))
    with pytest.raises(NotFound, match="no dataset"):
        data.load("nosuchdataset")


@pytest.mark.parametrize("name", list(data.DATASETS))
def test_bundled_datasets_load_offline(name: str) -> None:
    df, report = data.load(name)
    assert len(df) > 250 and (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert df.index.is_monotonic_increasing and df.index.is_unique
    assert report.rows_in == len(df) + len(report.dropped)
