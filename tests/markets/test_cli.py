import json
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from otemachi.cli import main
from otemachi.server import create_app


def test_data_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["markets", "data", "list"]) == 0
    assert "sp500" in capsys.readouterr().err


def test_backtest_json_on_any_csv(
    garch_bars: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bars.csv"
    garch_bars.reset_index().to_csv(csv, index=False)
    args = ["markets", "backtest", "--data", str(csv), "--model", "rw,ewma", "--horizons", "1,5"]
    assert main([*args, "--out", str(tmp_path / "out"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bars"] == len(garch_bars)
    assert set(result["horizons"]) == {"1", "5"}
    assert set(result["horizons"]["5"]) == {"rw", "ewma"}
    for name in ("fan_ewma.png", "calibration.png", "cumulative_pinball.png", "results.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "missing.csv"], "no such file"),
        (["--data", "sp500", "--model", "magic"], "unknown model"),
        (["--data", "sp500", "--horizons", "0,5"], "positive"),
        (["--data", "sp500", "--horizons", "1,9000"], "too long"),
    ],
)
def test_backtest_bad_input(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["markets", "backtest", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_api_lists_datasets() -> None:
    client = TestClient(create_app())
    assert "sp500" in client.get("/api/markets/datasets").json()
    assert "gru" in client.get("/api/markets/models").json()
