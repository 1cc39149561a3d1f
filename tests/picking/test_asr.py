"""Speech recognition parts: pronunciations, the n-gram model, the CTC beam search on made-up
frame probabilities, and pocketsphinx with the domain language model on synthesised commands."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from otemachi.core.errors import CheckpointError, ModelNotTrained
from otemachi.picking import speech
from otemachi.picking.asr import (
    BACKENDS,
    DOUBT_BELOW,
    Transcript,
    beam,
    ctc,
    lexicon,
    models,
    train,
    wer,
    word_errors,
)
from otemachi.picking.asr.data import Utterance
from otemachi.picking.asr.ngram import NGram
from otemachi.picking.asr.sphinx import PocketSphinx

SMALL = models.LMConfig(sentences=120)
COMMANDS = (
    "move the red cup to the top left box",
    "put the duck into the bottom right bin",
    "the blue one",
)


@pytest.fixture(scope="module")
def lm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OTEMACHI_HOME", str(home))
        models.build_lm(SMALL)
    return home


@pytest.fixture
def small_lm(lm_home: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("OTEMACHI_HOME", str(lm_home))
    return models.load_lm(SMALL)


def test_word_error_rate() -> None:
    assert word_errors("move the cup", "move a cup") == (1, 3)
    assert word_errors("move the cup", "") == (3, 3)
    assert word_errors("", "um") == (1, 0)
    assert wer([("a b c d", "a b c d"), ("a b", "a x y")]) == pytest.approx(2 / 6)


def test_a_transcript_less_sure_than_its_backends_bar_is_doubtful() -> None:
    assert set(DOUBT_BELOW) == set(BACKENDS)  # a backend without a bar would never doubt
    for backend, bar in DOUBT_BELOW.items():
        assert Transcript("move it", (), bar - 0.01, backend, 1.0).doubtful
        assert not Transcript("move it", (), bar + 0.01, backend, 1.0).doubtful
    assert not Transcript("move it", (), 0.0, "typed", 0.0).doubtful  # no bar: never doubted


def test_espeak_pronunciations_agree_with_the_cmu_dictionary() -> None:
    words = ["rabbit", "bottom", "corner", "yellow", "between", "giraffe", "purple", "sphere"]
    got = lexicon.spoken(["zzquux", *words])
    assert "zzquux" in got  # a word no dictionary knows still gets a pronunciation
    cmu = lexicon.cmudict()
    errors = total = 0
    for w in words:
        ipa = lexicon.ipa_to_arpabet(_ipa(w))
        ref = [p.rstrip("012") for p in cmu[w][0].split()]
        errors += word_errors(" ".join(ref), " ".join(ipa))[0]
        total += len(ref)
    assert errors / total < 0.15


def _ipa(word: str) -> str:
    return subprocess.run(
        ["espeak-ng", "-q", "--ipa", "-v", "en-us", word], capture_output=True, check=True
    ).stdout.decode()


def test_language_model_prefers_domain_sentences(small_lm: tuple[Path, Path]) -> None:
    lm = NGram(small_lm[0])
    assert lm.order == 3 and "duck" in lm.words and "bunny" in lm.words  # held out: a word only
    good = lm.sentence(["move", "the", "red", "cup", "to", "the", "top", "left", "box"])
    bad = lm.sentence(["box", "left", "top", "the", "to", "cup", "red", "the", "move"])
    assert good > bad + 10
    assert lm.score(("<s>",), "zebra") < lm.score(("<s>",), "move")
    text = small_lm[1].read_text()
    assert "\nduck " in text and "\nleftmost " in text  # espeak-ng filled what CMU lacks


def test_damaged_or_missing_language_model_is_named(small_lm: tuple[Path, Path]) -> None:
    with pytest.raises(ModelNotTrained, match="otemachi picking train-asr"):
        models.load_lm(models.LMConfig(sentences=7))
    arpa, _ = small_lm
    saved = arpa.read_bytes()
    try:
        arpa.write_bytes(saved[:-10])
        with pytest.raises(CheckpointError, match="SHA-256"):
            models.load_lm(SMALL)
    finally:
        arpa.write_bytes(saved)


def _frames(text: str, noise: float, seed: int, swap: dict[str, str] | None = None) -> np.ndarray:
    """Per-step log-probabilities that spell ``text`` (with blanks), blurred by noise, with some
    letters made likelier as others."""
    g = np.random.default_rng(seed)
    steps = [c for ch in text for c in (*ctc.encode(ch) * 2, ctc.BLANK)]
    logits = g.normal(0, noise, (len(steps), len(lexicon.CHARS) + 1))
    for t, c in enumerate(steps):
        logits[t, c] += 4.0
        ch = lexicon.CHARS[c - 1] if c else ""
        if swap and ch in swap:
            logits[t, ctc.encode(swap[ch])[0]] += 5.0
    return logits - np.log(np.exp(logits).sum(1, keepdims=True))


def test_beam_search_spells_clean_input_and_the_lm_repairs_a_misheard_word(
    small_lm: tuple[Path, Path],
) -> None:
    text = "move the red cup to the top left box"
    clean = beam.decode(_frames(text, 0.3, 0))
    assert " ".join(clean.words) == text
    assert len(clean.steps) == len(text.replace(" ", ""))
    assert clean.steps == tuple(sorted(clean.steps))
    misheard = _frames(text, 0.3, 1, swap={"u": "a"})  # "cap"
    assert " ".join(beam.decode(misheard).words) == text.replace("cup", "cap")
    lm = NGram(small_lm[0])
    assert " ".join(beam.decode(misheard, lm, alpha=0.8).words) == text


def test_words_of_the_scene_win_a_close_call() -> None:
    text = "move the red cup to the top left box"
    misheard = _frames(text, 0.3, 1, swap={"u": "a"})  # "cap" wins by the sound alone
    cup = beam.Bias(frozenset({"cup"}), 6.0)
    assert " ".join(beam.decode(misheard, bias=cup).words) == text
    other = beam.Bias(frozenset({"duck"}), 6.0)  # a word not said changes nothing
    assert beam.decode(misheard, bias=other).words == beam.decode(misheard).words
    weak = beam.Bias(frozenset({"cup"}), 0.5)  # a small bonus does not overrule the sound
    assert " ".join(beam.decode(misheard, bias=weak).words) == text.replace("cup", "cap")


def test_the_beam_reports_its_likeliest_readings_with_their_shares() -> None:
    text = "move the red cup to the top left box"
    got = beam.decode(_frames(text, 0.3, 1, swap={"u": "a"}))  # "cap" by the sound, "cup" close
    texts = [t for t, _ in got.readings]
    shares = [p for _, p in got.readings]
    assert texts[0] == " ".join(got.words) and shares[0] == pytest.approx(got.confidence)
    assert text in texts[1:]  # what was said is a reading, with a smaller share
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 1 + 1e-9
    assert len(texts) == len(set(texts)) <= beam.READINGS  # "ab" and "ab " are one reading


def test_pocketsphinx_transcribes_synthesised_commands(small_lm: tuple[Path, Path]) -> None:
    recogniser = PocketSphinx(*small_lm)
    pairs = []
    for text in COMMANDS:
        got = recogniser.transcribe(speech.say(text, speech.Voice("en-us", 150)))
        pairs.append((text, got.text))
        assert 0.0 <= got.confidence <= 1.0 and got.ms > 0
        assert all(0 <= w.start < w.end <= 5 for w in got.words)
    # espeak-ng is far from the speech its acoustic model learned: the README reports ~50% WER
    assert wer(pairs) < 0.85, pairs
    assert {w for _, said in pairs for w in said.split()} <= NGram(small_lm[0]).words


@pytest.mark.slow
def test_rnn_learns_what_it_heard_and_is_stored_and_loaded(
    small_lm: tuple[Path, Path], lm_home: Path
) -> None:
    texts = ["move the duck", "the blue one", "top left box"]
    voices = ("en-us+m1", "en-gb-scotland+f2")
    utts = [Utterance(t, v, speech.say(t, speech.Voice(v, 160))) for t in texts for v in voices]
    data = train.featurise(utts, 64) * 4
    cfg = train.ASRConfig(epochs=60, batch=6, lr=5e-3, model=ctc.CTCConfig(hidden=64))
    model = train.train(cfg, data, data[:6])
    rnn = models.RNN(model, NGram(small_lm[0]))
    got = rnn.transcribe(utts[2].samples)
    assert got.text == "the blue one", got
    assert [w.text for w in got.words] == ["the", "blue", "one"]
    assert all(a.end <= b.start + 0.1 for a, b in zip(got.words, got.words[1:], strict=False))
    assert 0 < got.confidence <= 1 and got.text in {t for t, _ in got.readings}
    metrics = {"default": "rnn", "decoding": {"width": 8, "alpha": 0.4, "beta": 1.0}}
    models.ARTIFACT.save(SMALL, dict(model.state_dict()), metrics, rebuild=cfg.model)
    loaded = models.load(None, SMALL)
    assert isinstance(loaded, models.RNN) and loaded.decoding.width == 8
    assert loaded.transcribe(utts[2].samples).text == "the blue one"
    assert isinstance(models.load("pocketsphinx", SMALL), PocketSphinx)
    models.ARTIFACT.save(SMALL, dict(model.state_dict()), {**metrics, "default": "pocketsphinx"},
                         rebuild=cfg.model)  # fmt: skip
    assert isinstance(models.load(None, SMALL), PocketSphinx)
