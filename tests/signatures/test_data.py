import dataclasses
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from otemachi.cli import main
from otemachi.core.errors import InvalidInput, NotFound
from otemachi.core.seeding import rng
from otemachi.signatures import base, evaluate, oscillator, synth
from otemachi.signatures import data as datasets
from otemachi.signatures.preprocess import preprocess


def test_synth_is_deterministic_and_writes_the_folder_layout(tmp_path: Path) -> None:
    a = datasets.SynthDataset(2, n_genuine=3, n_forgeries=2, seed=5)
    b = datasets.SynthDataset(2, n_genuine=3, n_forgeries=2, seed=5)
    assert all(
        np.array_equal(x, y)
        for x, y in zip(a.iter_genuine("w0001"), b.iter_genuine("w0001"), strict=True)
    )
    assert datasets.write(a, tmp_path) == 10
    folder = datasets.open_dataset(tmp_path)
    assert isinstance(folder, datasets.FolderDataset) and folder.writers() == ["w0000", "w0001"]
    read = list(folder.iter_genuine("w0001"))
    assert len(read) == 3 and np.array_equal(read[0], next(a.iter_genuine("w0001")))
    assert len(list(folder.iter_forgery("w0000"))) == 2


def test_the_oscillator_generator_is_its_own_deterministic_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osc = datasets.SynthDataset(3, 2, 2, seed=5, generator="oscillator")
    again = datasets.SynthDataset(3, 2, 2, seed=5, generator="oscillator")
    lognormal = datasets.SynthDataset(3, 2, 2, seed=5)
    first, second = list(osc.iter_genuine("w0000")), list(again.iter_genuine("w0000"))
    assert all(np.array_equal(x, y) for x, y in zip(first, second, strict=True))
    assert first[0].shape == oscillator.SIZE != next(lognormal.iter_genuine("w0000")).shape
    assert not np.array_equal(first[0], first[1])  # the same hand, another day
    forged = list(osc.iter_forgery("w0000"))
    assert len(forged) == 2 and all(f.dtype == np.uint8 for f in forged)
    for img in [*first, *forged]:  # dark ink on light paper, and preprocessable
        assert img.min() < 150 < np.median(img) and preprocess(img).max() > 0.5
    assert base.qualified(osc, ["w0000"]).isdisjoint(base.qualified(lognormal, ["w0000"]))
    out = tmp_path / "osc"
    args = ["signatures", "synth", "--writers", "2", "--genuine", "2", "--forgeries", "1"]
    assert main([*args, "--out", str(out), "--generator", "oscillator"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["w0000", "w0001"]
    assert main([*args, "--out", str(tmp_path / "x"), "--generator", "spline"]) == 2
    assert "--generator must be one of" in capsys.readouterr().err
    held_out = evaluate.evaluation_data("oscillator", writers=2)
    assert isinstance(held_out, datasets.SynthDataset) and held_out.generator == "oscillator"
    assert next(held_out.iter_genuine("eval0000")).shape == oscillator.SIZE
    first = evaluate.evaluation_data("synth", writers=2)
    assert base.qualified(held_out, ["eval0000"]).isdisjoint(base.qualified(first, ["eval0000"]))
    tune = evaluate.evaluation_data("tune", writers=2)
    assert isinstance(tune, datasets.SynthDataset) and tune.generator == "lognormal"
    assert tune.writers() == ["tune0000", "tune0001"]  # neither "eval", "dev" nor "cal" writers
    assert not np.array_equal(next(tune.iter_genuine("tune0000")),
                              next(first.iter_genuine("eval0000")))  # fmt: skip


def test_wide_development_writers_vary_hands_pens_papers_and_scanners() -> None:
    wide = datasets.SynthDataset(8, 2, 1, seed=3, wide=1.0)
    again = datasets.SynthDataset(8, 2, 1, seed=3, wide=1.0)
    plain = datasets.SynthDataset(8, 2, 1, seed=3)
    scans = [img for w in wide.writers() for img in [*wide.iter_genuine(w), *wide.iter_forgery(w)]]
    same = [img for w in wide.writers() for img in [*again.iter_genuine(w), *again.iter_forgery(w)]]
    assert all(np.array_equal(a, b) for a, b in zip(scans, same, strict=True))  # seeded
    usual = [img for w in plain.writers() for img in plain.iter_genuine(w)]
    assert scans[0].shape == usual[0].shape and scans[0].dtype == np.uint8
    assert not np.array_equal(scans[0], usual[0])
    assert np.std([np.median(s) for s in scans]) > 3 * np.std([np.median(s) for s in usual])
    for img in scans:  # still ink on paper that preprocessing finds
        assert preprocess(img).max() > 0.5
    half = datasets.SynthDataset(8, 2, 1, seed=3, wide=0.5)  # some writers wide, the rest as ever
    plain_ones = [
        np.array_equal(next(half.iter_genuine(w)), next(plain.iter_genuine(w)))
        for w in plain.writers()
    ]
    assert 0 < sum(plain_ones) < len(plain_ones)
    r = np.random.default_rng(0)
    style = synth.writer_style(r)
    binary = synth.render(style, r, how=dataclasses.replace(synth.scan(r), binary=True))
    assert set(np.unique(binary)) <= {0, 255}


def _png(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((20, 30), value, np.uint8)).save(path)


def test_cedar_naming(tmp_path: Path) -> None:
    for w, s, kind, v in [(2, 1, "original", 10), (10, 1, "original", 20), (2, 2, "original", 30),
                          (2, 10, "original", 40), (2, 1, "forgeries", 50)]:  # fmt: skip
        _png(
            tmp_path / ("full_org" if kind == "original" else "full_forg") / f"{kind}_{w}_{s}.png",
            v,
        )
    _png(tmp_path / "notes.png", 0)
    data = datasets.open_dataset(tmp_path)
    assert isinstance(data, datasets.CedarDataset)
    assert data.writers() == ["2", "10"]
    assert [int(im[0, 0]) for im in data.iter_genuine("2")] == [10, 30, 40]  # by sample number
    assert [int(im[0, 0]) for im in data.iter_forgery("2")] == [50]


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        datasets.open_dataset(tmp_path / "absent")
    (tmp_path / "w1" / "genuine").mkdir(parents=True)
    with pytest.raises(InvalidInput, match="no <writer>/genuine/"):
        datasets.open_dataset(tmp_path)
    (tmp_path / "w1" / "genuine" / "a.png").write_bytes(b"not an image")
    with pytest.raises(InvalidInput, match="not a readable image"):
        list(datasets.open_dataset(tmp_path).iter_genuine("w1"))


def test_one_kind_of_forgery_keeps_the_second_generators_writers_and_genuine_signatures() -> None:
    both = evaluate.evaluation_data("oscillator", writers=2)
    kinds = {
        k: evaluate.evaluation_data(f"oscillator-{k}", writers=2) for k in ("freehand", "traced")
    }
    genuine = list(both.iter_genuine("eval0001"))
    forged = {k: list(d.iter_forgery("eval0001")) for k, d in kinds.items()}
    for d in kinds.values():
        assert all(
            np.array_equal(a, b) for a, b in zip(genuine, d.iter_genuine("eval0001"), strict=True)
        )
    assert len(forged["freehand"]) == len(forged["traced"]) == 5
    assert not any(np.array_equal(a, b) for a, b in zip(*forged.values(), strict=True))
    r = rng(evaluate.EVAL_SEED, "signatures", "oscillator", "eval0001")  # the stream, replayed
    hand = oscillator.writer(r)
    [oscillator.genuine(hand, r) for _ in genuine]
    state = r.bit_generator.state
    assert np.array_equal(oscillator.freehand(hand, r), forged["freehand"][0])
    r.bit_generator.state = state
    assert np.array_equal(oscillator.traced(hand, r), forged["traced"][0])
    r.bit_generator.state = state
    made = oscillator.freehand if r.random() < 0.5 else oscillator.traced  # forgery's own draw
    assert np.array_equal(made(hand, r), next(both.iter_forgery("eval0001")))


def test_scans_render_the_same_signatures_again_under_wider_conditions() -> None:
    plain, wide, both = (
        datasets.SynthDataset(2, 2, 1, seed=4, scans=s) for s in ("plain", "wide", "both")
    )
    p, w, b = ([*d.iter_genuine("w0001"), *d.iter_forgery("w0001")] for d in (plain, wide, both))
    assert len(p) == len(w) == 3 and len(b) == 6
    assert all(np.array_equal(x, y) for x, y in zip(p, b[0::2], strict=True))  # plain first ...
    assert all(np.array_equal(x, y) for x, y in zip(w, b[1::2], strict=True))  # ... then again
    assert not any(np.array_equal(x, y) for x, y in zip(p, w, strict=True))
    unit = [preprocess(x).ravel() / np.linalg.norm(preprocess(x)) for x in [*p, *w]]
    other = [preprocess(x).ravel() for x in plain.iter_genuine("w0000")]
    for i in range(3):  # the same signature: closer to itself plain than another writer is
        assert unit[i] @ unit[3 + i] > max(unit[3 + i] @ o / np.linalg.norm(o) for o in other)
    tune_wide = evaluate.evaluation_data("tune-wide", writers=2)
    assert isinstance(tune_wide, datasets.SynthDataset) and tune_wide.scans == "wide"


def test_adding_scans_left_the_keys_of_stored_bases_as_they_were() -> None:
    from otemachi.signatures import model

    def without_scans(cls: type) -> type:
        kept = [(f.name, f.type, dataclasses.field(default=f.default)) for f in
                dataclasses.fields(cls) if f.name != "scans"]  # fmt: skip
        return dataclasses.make_dataclass(f"Old{cls.__name__}", kept, frozen=True)

    cfg = base.BaseConfig()
    old = without_scans(base.BaseConfig)()
    old_cnn = without_scans(base.CNNTraining)(**{
        k: v for k, v in dataclasses.asdict(cfg.cnn()).items() if k != "scans"})  # fmt: skip
    assert base.BACKGROUND.key(cfg, base.DATA) == base.BACKGROUND.key(old, base.DATA)
    assert model.ARTIFACT.key(cfg.cnn(), base.DATA) == model.ARTIFACT.key(old_cnn, base.DATA)
    rescan = dataclasses.replace(cfg, scans="both")
    assert base.BACKGROUND.key(rescan, base.DATA) != base.BACKGROUND.key(cfg, base.DATA)
    with pytest.raises(InvalidInput, match="scans must be one of"):
        base.BaseConfig(scans="twice")
