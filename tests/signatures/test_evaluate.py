import json
from pathlib import Path

import numpy as np
import pytest

from otemachi.cli import main
from otemachi.core.errors import InvalidInput
from otemachi.signatures import base, evaluate, service
from otemachi.signatures import data as datasets
from otemachi.signatures.evaluate import KEYS, EvalConfig

from .conftest import TINY

pytestmark = pytest.mark.slow


def test_cnn_and_per_person_models_separate_skilled_forgeries_of_unseen_writers(
    tiny_base: base.Base, tmp_path: Path
) -> None:
    data = evaluate.evaluation_data("synth", writers=30)
    result, figures = evaluate.run(tiny_base, data, EvalConfig(refs=(1, 5)), tmp_path)
    js = json.loads((tmp_path / "results.json").read_text())
    assert js == json.loads(json.dumps(result.to_json()))
    assert js["writers"] == 30 and set(js["methods"]) == {"ocnn", "svdd", "svm", "hog"}
    assert all(set(m) == set(KEYS) for by in js["methods"].values() for m in by.values())
    hog = js["methods"]["hog"]["5"]  # the classical baseline: no calibrated global threshold
    assert 0.5 < hog["auc"] <= 1 and hog["far_skilled"] is None and hog["frr_shipped"] is None
    svdd = js["methods"]["svdd"]
    assert svdd["5"]["auc"] >= 0.9, svdd  # genuine vs skilled forgeries; chance is 0.5
    assert svdd["5"]["auc"] > svdd["1"]["auc"] and svdd["5"]["eer_global"] < 0.25, svdd
    assert all(p.stat().st_size > 0 for p in figures)
    assert (tmp_path / "writer_eer.png") in figures
    own = result.writer_eers["svdd"]["5"]
    assert len(own) == 30 and ((own >= 0) & (own <= 1)).all()
    spread = js["writer_eer"]["svdd"]["5"]
    assert spread["p25"] <= spread["median"] <= spread["p75"] <= spread["max"]
    assert abs(spread["max"] - own.max()) < 1e-4


def test_refuses_writers_the_base_has_seen(tiny_base: base.Base, tmp_path: Path) -> None:
    dev, calib = base.dev_datasets(TINY)
    with pytest.raises(InvalidInput, match="used to build the base"):
        evaluate.run(tiny_base, calib, EvalConfig(), tmp_path)
    assert base.qualified(dev, dev.writers()) <= tiny_base.seen_writers


def test_enrolled_people_accept_their_own_and_reject_others(tiny_base: base.Base) -> None:
    data = datasets.SynthDataset(6, n_genuine=10, n_forgeries=5, seed=99, prefix="api")
    writers = data.writers()
    accepted = {"genuine": 0, "skilled": 0, "random": 0}
    scores: dict[str, list[float]] = {k: [] for k in accepted}
    for w in writers[:3]:
        genuine = list(data.iter_genuine(w))
        model = service.fit(tiny_base, w, genuine[:5]).model
        tried = {
            "genuine": genuine[5:],
            "skilled": list(data.iter_forgery(w)),
            "random": [next(iter(data.iter_genuine(o))) for o in writers if o != w],
        }
        for kind, images in tried.items():
            for v in (service.decide(tiny_base, model, e) for e in tiny_base.embed(images)):
                accepted[kind] += v.genuine
                scores[kind].append(v.score)
    assert accepted["random"] == 0 and accepted["skilled"] <= 3, accepted  # of 15 each
    assert accepted["genuine"] >= 10, accepted  # of 15
    mean = {k: np.mean(v) for k, v in scores.items()}
    assert mean["genuine"] > mean["skilled"] > mean["random"], mean


def test_enrolment_limits_and_stale_models(tiny_base: base.Base) -> None:
    data = datasets.SynthDataset(1, n_genuine=6, n_forgeries=1, seed=99, prefix="api")
    genuine = list(data.iter_genuine("api0000"))
    assert tiny_base.embed(genuine).shape == (6, tiny_base.net.cfg.embed)
    with pytest.raises(InvalidInput, match="1 to 5"):
        service.fit(tiny_base, "alice", genuine)
    model = service.fit(tiny_base, "alice", genuine[:3]).model
    stale = type(model)(model.user_id, model.method, "other", model.params, model.threshold, 3)
    with pytest.raises(service.StaleRecord, match="re-enrol"):
        service.decide(tiny_base, stale, tiny_base.embed([genuine[4]])[0])


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
            "--dev-writers", "80", "--calib-writers", "10", "--epochs", "5"]  # fmt: skip
    capsys.readouterr()
    assert main(args) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["writers"] == 4 and set(js["methods"]["svdd"]) == {"1", "2"}
    assert main([*args[:-6], "--refs", "0,9"]) == 2
    assert "between 1 and 5" in capsys.readouterr().err
