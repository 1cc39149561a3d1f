import json
from pathlib import Path

import numpy as np
import pytest

from otemachi.cli import main
from otemachi.core.errors import InvalidInput
from otemachi.signatures import base, evaluate
from otemachi.signatures import data as datasets
from otemachi.signatures import service as enroll
from otemachi.signatures.evaluate import KEYS, EvalConfig

from .conftest import TINY

pytestmark = pytest.mark.slow


def test_evaluation_keys_on_unseen_writers(tiny_base: base.Base, tmp_path: Path) -> None:
    data = evaluate.evaluation_data("synth", writers=6)
    result, figures = evaluate.run(tiny_base, data, EvalConfig(refs=(1, 2, 5)), tmp_path)
    js = json.loads((tmp_path / "results.json").read_text())
    assert js == json.loads(json.dumps(result.to_json()))
    assert js["writers"] == 6 and set(js["methods"]) == {"ocnn", "svdd", "svm"}
    for by_refs in js["methods"].values():
        assert set(by_refs) == {"1", "2", "5"}
        assert all(set(m) == set(KEYS) for m in by_refs.values())
        assert all(0 <= v <= 1 for m in by_refs.values() for v in m.values())
    assert all(p.stat().st_size > 0 for p in figures)


def test_refuses_writers_the_base_has_seen(tiny_base: base.Base, tmp_path: Path) -> None:
    dev, calib = base.dev_datasets(TINY)
    with pytest.raises(InvalidInput, match="used to build the base"):
        evaluate.run(tiny_base, calib, EvalConfig(), tmp_path)
    assert base.qualified(dev, dev.writers()) <= tiny_base.seen_writers


def test_enroll_and_verify(tiny_base: base.Base) -> None:
    data = datasets.SynthDataset(1, n_genuine=6, n_forgeries=1, seed=99, prefix="api")
    genuine = list(data.iter_genuine("api0000"))
    model = enroll.enroll(tiny_base, "alice", genuine[:3])
    verdict = enroll.verify(tiny_base, model, genuine[4])
    assert np.isfinite(verdict.score) and verdict.genuine == (verdict.score >= verdict.threshold)
    assert enroll.embed(tiny_base, genuine).shape == (6, tiny_base.net.cfg.embed)
    with pytest.raises(InvalidInput, match="1 to 5"):
        enroll.enroll(tiny_base, "alice", genuine)
    stale = type(model)(model.user_id, model.method, "other", model.params, model.threshold, 3)
    with pytest.raises(InvalidInput, match="re-enrol"):
        enroll.verify(tiny_base, stale, genuine[4])


def test_cli_synth_then_evaluate_folder(
    tiny_base: base.Base, tiny_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("OTEMACHI_HOME", str(tiny_home))  # the tiny base is cached there
    corpus = tmp_path / "corpus"
    assert main(["signatures", "synth", "--writers", "4", "--genuine", "4", "--forgeries", "2",
                 "--out", str(corpus), "--seed", "3"]) == 0  # fmt: skip
    args = ["signatures", "evaluate", "--data", str(corpus), "--refs", "1,2", "--method", "svdd",
            "--out", str(tmp_path / "out"), "--json",
            "--dev-writers", "30", "--epochs", "3"]  # fmt: skip
    capsys.readouterr()
    assert main(args) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["writers"] == 4 and set(js["methods"]["svdd"]) == {"1", "2"}
    assert main([*args[:-4], "--refs", "0,9"]) == 2
    assert "between 1 and 5" in capsys.readouterr().err
