"""Bad bars and bad flags a new user tries: each is our own one-line error or a reported repair."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from otemachi.cli import main
from otemachi.core import options
from otemachi.core.errors import InvalidInput
from otemachi.markets import data

from ..cli_checks import refused_in_one_line

CSV = """timestamp,open,high,low,close,volume
2024-01-01,10,11,9,10.5,100
2024-01-02,10.5,12,10,11,100
2024-01-03,11,12,10,inf,100
,11,12,10,11.5,100
2024-01-04,11,13,10,12,100
"""


def test_infinite_values_and_empty_timestamps_are_dropped_and_reported(tmp_path: Path) -> None:
    (tmp_path / "bars.csv").write_text(CSV)
    df, report = data.load(str(tmp_path / "bars.csv"))
    assert np.isfinite(df.to_numpy()).all() and len(df) == 3
    assert df.index[-1] == pd.Timestamp("2024-01-04", tz="UTC")  # the empty stamp is not newest
    assert report.rows_in == 5 and len(report.dropped) == 2
    assert any("infinite" in d for d in report.dropped)
    assert any("data row 4: empty or unreadable timestamp" in d for d in report.dropped)
    with pytest.raises(InvalidInput, match="timestamp"):
        data.validate(data.read_bars(tmp_path / "bars.csv"), repair=False)


def test_files_without_a_suffix_are_read_by_content(tmp_path: Path) -> None:
    (tmp_path / "bars.csv").write_text(CSV)
    frame = data.read_bars(tmp_path / "bars.csv").reset_index()
    frame.to_parquet(tmp_path / "pq")
    (tmp_path / "text").write_text(CSV)
    for name in ("pq", "text"):
        df, _ = data.load(str(tmp_path / name))
        assert len(df) == 3


def test_a_folder_or_header_only_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is a folder"):
        data.load(str(tmp_path))
    (tmp_path / "h.csv").write_text("timestamp,open,high,low,close,volume\n")
    with pytest.raises(InvalidInput, match="no bars"):
        data.load(str(tmp_path / "h.csv"))


def test_repeated_choices_are_refused() -> None:
    assert options.choices("rw,ewma", ["rw", "ewma"], "model(s)") == ["rw", "ewma"]
    with pytest.raises(InvalidInput, match="more than once"):
        options.choices("ewma,rw,ewma", ["rw", "ewma"], "model(s)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "ewma,ewma"], "given more than once"),
        (["--model", "gbm", "--seed", "-1"], "--seed"),
        (["--out", "file.txt"], "is an existing file"),
        (["--out", "no/such/folder"], "does not exist"),
        (["--data", "."], "is a folder"),
    ],
)
def test_backtest_refuses_in_one_line(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("a file")
    refused_in_one_line(["markets", "backtest", "--data", "sp500", *args], message, capsys)


def test_train_takes_one_cell(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "train", "--data", "sp500", "--model", "gru,lstm"]) == 2
    assert "--model must be one of" in capsys.readouterr().err
