"""What a backtest leaves behind: plots, a JSON result, tables, and checkpoints of the networks."""

import hashlib
import json
from pathlib import Path

import numpy as np

from otemachi.core.paths import artifact_dir
from otemachi.markets import plots
from otemachi.markets.backtest import Backtest, to_json
from otemachi.markets.train import RNNModel, save_model

HEADERS = ("crps bp", "pinball bp", "cov80", "cov50", "mase", "dir_acc", "brier", "DM p vs rw")
TABLE_KEYS = (
    "crps",
    "pinball",
    "coverage80",
    "coverage50",
    "mase",
    "dir_acc",
    "brier",
    "dm_pvalue_vs_rw",
)


def data_hash(bt: Backtest) -> str:
    """A short hash of the feature matrix the models were trained on."""
    return hashlib.sha256(np.ascontiguousarray(bt.series.features).tobytes()).hexdigest()[:16]


def _fmt(key: str, value: float) -> str:
    if np.isnan(value):
        return "n/a"
    if key in ("crps", "pinball"):
        return f"{1e4 * value:.1f}"  # basis points of log return
    return f"{value:.3f}"


def rows(bt: Backtest) -> list[list[str]]:
    """Table rows: horizon, model, then TABLE_KEYS formatted."""
    out = []
    for h, table in bt.scores.items():
        for model, s in table.items():
            vals = [_fmt(k, s[k]) for k in TABLE_KEYS]
            out.append([str(h), model, *vals])
    return out


def save(bt: Backtest, data: str, out: Path) -> dict[str, list[Path]]:
    """Write plots and results.json into ``out``; checkpoint each network under OTEMACHI_HOME."""
    out.mkdir(parents=True, exist_ok=True)
    nets = [m for m in bt.forecasts if m in ("gru", "lstm")]
    star = ([*nets, *(m for m in bt.forecasts if m != "rw")] or ["rw"])[0]
    figures = plots.all_plots(bt, out, star)
    result = out / "results.json"
    result.write_text(json.dumps(to_json(bt, data), indent=2))
    ckpts = []
    name = Path(data).stem if Path(data).suffix else data
    for net in nets:
        model = bt.final[net]
        assert isinstance(model, RNNModel) and model.net is not None
        metrics = {f"crps_h{h}": bt.scores[h][net]["crps"] for h in bt.scores}
        path = artifact_dir("markets", "models") / f"{name}-{net}"
        ckpts.append(save_model(path, model.net, metrics, data_hash(bt)))
    return {"figures": figures, "results": [result], "checkpoints": ckpts}
