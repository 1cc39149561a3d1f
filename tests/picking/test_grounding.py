"""A tiny grounding model end to end: it learns, it asks on ambiguous instructions and not on
unique ones, answers resolve, and `picking evaluate` prints the documented keys."""

import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from otemachi.cli import main
from otemachi.picking import audio, detect, episodes, evaluate, model, reading, speech, train
from otemachi.picking.asr import DOUBT_BELOW, Transcript, lexicon
from otemachi.picking.asr import models as asr_models
from otemachi.picking.catalog import CATEGORIES, LOOKS, SIZES
from otemachi.picking.dialog import Picker, replies
from otemachi.picking.ground import Candidates
from otemachi.picking.scenes import Scene, SceneSpec, parse
from otemachi.picking.world import Frame
from otemachi.server import create_app

TINY = model.GroundConfig(
    text_examples=5000,
    reader_epochs=5,
    readers=2,
    looks_scenes=30,
    looks_epochs=6,
    fit_scenes=8,
    fit_steps=5,
)


def store_as_default(tiny: model.Grounder) -> None:
    """Store the tiny model where `otemachi picking train` stores the default one."""
    model.save(dataclasses.replace(tiny, config=model.GroundConfig()))


@pytest.fixture(scope="session")
def tiny() -> model.Grounder:
    return train.train_grounder(TINY)


def test_reader_learns_the_slots(tiny: model.Grounder) -> None:
    acc = reading.accuracy(tiny.reader, reading.examples(200, 123, frozenset()))
    assert acc["cat"] > 0.5 and acc["dest"] > 0.6  # chance: 1/13 and 1/4


def test_the_readers_are_read_as_their_mean(tiny: model.Grounder) -> None:
    texts = ["move the red cup to the top left box", "the duck that isn't yellow goes right"]
    one, two = (reading.Readers([r]).read(texts) for r in tiny.reader.members)  # type: ignore[list-item]
    both = tiny.reader.read(texts)
    assert not torch.allclose(one["cat"], two["cat"]), "readers from two seeds differ"
    for s in both:
        torch.testing.assert_close(both[s], (one[s] + two[s]) / 2)


def test_tiny_model_beats_chance_on_episodes(tiny: model.Grounder) -> None:
    eps = [e for e in episodes.make(16, 5) if e.tags["template"] != "ambiguous"]
    result, rows = evaluate.run(eps, tiny, None, clarify=False)
    chance = np.mean([1 / len(e.scene.objects) for e in eps])
    assert result["target_accuracy"] > 3 * chance, (result, chance)
    assert result["destination_accuracy"] > 0.5
    assert len(rows) == len(eps) == result["episodes"]


def test_save_and_load_give_the_same_scores(tiny: model.Grounder) -> None:
    path = model.save(tiny)
    assert path.parent.name == "models" and path.name.startswith("grounder-")
    again = model.load(TINY)
    a, b = (
        tiny.read("move the red cup to the top left box"),
        again.read("move the red cup to the top left box"),
    )
    assert all(torch.allclose(a[k], b[k]) for k in a)
    assert again.config == TINY and again.metrics == tiny.metrics


class SeeingGrounder(model.Grounder):
    """The tiny model's reader and scorer with perfect eyes: tests the dialog, not the CNN."""

    spec: SceneSpec

    def candidates(self, frame: Frame, boxes: np.ndarray) -> Candidates:
        c = super().candidates(frame, boxes)
        objs = self.spec.objects  # all visible, in spec order (the oracle boxes' order)

        def onehot(values: list[int], n: int) -> torch.Tensor:
            return torch.nn.functional.one_hot(torch.tensor(values), n).float()

        return dataclasses.replace(
            c,
            cat=onehot([CATEGORIES.index(o.category) for o in objs], len(CATEGORIES)),
            look=onehot([LOOKS.index(o.color or "white") for o in objs], len(LOOKS)),
            size=onehot([SIZES.index(o.size or "small") for o in objs], len(SIZES)),
        )


SPEC = parse(
    {
        "objects": [
            {
                "id": "a",
                "category": "block",
                "color": "red",
                "size": "large",
                "box": "tl",
                "x": 0.5,
                "y": 0.5,
            },
            {
                "id": "b",
                "category": "block",
                "color": "red",
                "size": "large",
                "box": "br",
                "x": 0.5,
                "y": 0.5,
            },
            {
                "id": "c",
                "category": "ball",
                "color": "blue",
                "size": "small",
                "box": "tr",
                "x": 0.5,
                "y": 0.5,
            },
            {
                "id": "d",
                "category": "mug",
                "color": "green",
                "size": "small",
                "box": "bl",
                "x": 0.5,
                "y": 0.5,
            },
        ]
    }
)


@pytest.fixture()
def picker(tiny: model.Grounder) -> Iterator[Picker]:
    model = SeeingGrounder(tiny.reader, tiny.looks, tiny.scorer, tiny.config, tiny.metrics)
    model.spec = SPEC
    scene = Scene(SPEC)
    yield Picker(scene, model, oracle=True)
    scene.close()


def test_no_question_when_the_words_are_unique(picker: Picker) -> None:
    d = picker.instruct("Move the ball to the bottom left box")
    assert d.target == "c" and d.question is None and d.destination == "bl"


def test_question_on_ambiguous_instruction_and_the_answer_resolves_it(picker: Picker) -> None:
    d = picker.instruct("Put the block into the top right box")
    assert d.question is not None and d.target in ("a", "b")
    assert "top left" in d.question and "bottom right" in d.question, d.question
    d = picker.answer("the one in the bottom right box")
    assert d.target == "b" and d.question is None and d.asked == 1
    assert d.destination == "tr"


def test_the_ears_listen_for_the_names_and_colours_of_what_is_seen(picker: Picker) -> None:
    def onehot(n: int, at: list[int], p: float = 0.9) -> torch.Tensor:
        out = torch.full((len(at), n), (1 - p) / (n - 1))
        out[range(len(at)), at] = p
        return out

    seen = [CATEGORIES.index("block"), CATEGORIES.index("soccer ball")]
    looks = [LOOKS.index("red"), LOOKS.index("black and white")]
    picker._cands = Candidates(
        np.zeros((2, 4), np.float32), torch.zeros(2, 2), onehot(4, [0, 1], 1.0),
        onehot(len(CATEGORIES), seen), onehot(len(LOOKS), looks), onehot(2, [0, 1]),
    )  # fmt: skip
    words = {"block", "cube", "box", "soccer", "ball", "football", "black", "white", "red"}
    assert picker.hints() == words  # names, synonyms and looks of what is seen; no "and"
    picker._cands = Candidates(
        np.zeros((1, 4), np.float32), torch.zeros(1, 2), onehot(4, [0], 1.0),
        onehot(len(CATEGORIES), seen[:1], 0.2), onehot(len(LOOKS), looks[:1], 0.2),
        onehot(2, [0]),
    )  # fmt: skip
    assert picker.hints() == frozenset()  # nothing is likely enough


def test_a_doubtful_transcript_is_asked_about_even_when_the_reading_is_sure(
    picker: Picker,
) -> None:
    d = picker.instruct("Move the ball to the bottom left box", doubtful=True)
    assert d.question is not None and d.target == "c" and d.asked == 1
    d = picker.answer("the blue ball")
    assert d.target == "c" and d.question is None
    picker.ask_below = 0.0  # never asking means never, doubt or not
    assert picker.instruct("Move the ball to the bottom left box", doubtful=True).question is None


def test_readings_read_together_read_as_each_alone(tiny: model.Grounder) -> None:
    texts = ["move the red cup to the top left box", "the green lego", "move the cap", "a b c"]
    together = tiny.read_all(texts)
    for text, got in zip(texts, together, strict=True):
        alone = tiny.read(text)
        assert all(torch.allclose(alone[k], got[k], atol=1e-5) for k in alone)
    padded = tiny.reader.read(texts)  # one padded batch: the shorter texts read differently
    assert not all(torch.allclose(padded[k][1], together[1][k], atol=1e-5) for k in padded)


def test_readings_that_disagree_on_the_object_leave_the_robot_unsure(picker: Picker) -> None:
    ball, mug = "move the ball to the bottom left box", "move the mug to the bottom left box"
    sure = picker.instruct(ball)
    assert picker.instruct(ball, readings=[(ball, 1.0)]) == sure  # one reading: the text alone
    assert picker.instruct(ball, readings=[(ball, 0.0), (mug, 0.0)]) == sure  # none believed
    d = picker.instruct(ball, readings=[(ball, 0.55), (mug, 0.45)])
    assert d.question is not None and d.target in ("c", "d")  # "ball or mug?"
    p = dict(zip(picker._ids, d.scores, strict=True))
    assert 0.3 < p["c"] < 0.7 and 0.3 < p["d"] < 0.7 and d.destination == "bl"
    d = picker.instruct(mug, readings=[(mug, 0.9), (ball, 0.01), ("", 0.09)])  # flattened
    assert d.target == "d" and 0.7 < max(d.scores) < max(sure.scores)


def test_a_spoken_answer_counts_by_its_readings(picker: Picker) -> None:
    left, right = "the one in the top left box", "the one in the bottom right box"
    picker.instruct("Put the block into the top right box")
    d = picker.answer(left, readings=[(left, 0.5), (right, 0.5)])
    assert d.question is not None and d.asked == 2  # the readings disagree: asked again
    picker.instruct("Put the block into the top right box")
    heard = Transcript(right, (), 0.9, "rnn", 1.0, ((right, 0.5), (left, 0.5)))
    d = picker.clarify(replies([heard]))  # a transcript for a reply: its readings count
    assert d.question is not None and d.asked == 2  # asked again, unanswered
    d = picker.clarify(replies([Transcript.typed(right)]))
    assert d.target == "b" and d.question is None and d.asked == 2


def test_http_decide_asks_about_an_instruction_its_client_says_is_doubtful(
    picker: Picker,
) -> None:
    app = create_app()
    app.state.picking_grounder = picker.grounder  # perfect eyes: the dialog is what is tested
    client = TestClient(app)
    unique = {"scene": SPEC.to_dict(), "instruction": "Move the ball to the bottom left box",
              "oracle_boxes": True}  # fmt: skip
    assert client.post("/api/picking/decide", json=unique).json()["question"] is None
    doubted = client.post("/api/picking/decide", json={**unique, "doubtful": True}).json()
    assert doubted["question"] is not None and doubted["target"] == "c"  # asked all the same
    answered = {**unique, "doubtful": True, "answers": ["the blue ball"]}
    got = client.post("/api/picking/decide", json=answered).json()
    assert got["questions_asked"] == 1 and got["question"] is None and got["target"] == "c"
    mug = "move the mug to the bottom left box"
    readings = [{"text": unique["instruction"], "share": 0.5}, {"text": mug, "share": 0.5}]
    split = client.post("/api/picking/decide", json={**unique, "readings": readings}).json()
    assert split["question"] is not None and split["target"] in ("c", "d")
    bad = {**unique, "readings": [{"text": mug, "share": 2.0}]}
    assert client.post("/api/picking/decide", json=bad).status_code == 422


def test_no_the_other_one_corrects_a_decision(picker: Picker) -> None:
    first = picker.instruct("Put the block into the top right box").target
    assert first in ("a", "b")
    d = picker.answer("no, the other one")
    assert d.target in ("a", "b") and d.target != first


def test_cli_evaluate_prints_the_documented_json(
    tiny: model.Grounder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_as_default(tiny)
    path = tmp_path / "eps.jsonl"
    episodes.write(episodes.make(3, 9), path)
    args = ["picking", "evaluate", "--episodes", str(path), "--oracle-boxes", "--json"]
    assert main([*args, "--execute"]) == 0
    got = json.loads(capsys.readouterr().out, parse_constant=pytest.fail)  # no NaN
    keys = {"episodes", "target_accuracy", "target_accuracy_clarified", "destination_accuracy"}
    keys |= {"questions_asked", "pick_place_success", "latency_ms_p50", "latency_ms_p95"}
    assert keys <= set(got) and got["episodes"] == 3
    assert main([*args, "--no-clarify"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["questions_asked"] == 0 and "pick_place_success" not in got
    assert got["target_accuracy"] == got["target_accuracy_clarified"]


def test_cli_evaluate_names_a_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "eps.jsonl"
    path.write_text('{"id": "x"}\nnot json\n')
    assert main(["picking", "evaluate", "--episodes", str(path)]) == 2
    assert "line 1" in capsys.readouterr().err


def test_cli_run_marks_the_decision(
    tiny: model.Grounder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_as_default(tiny)
    monkeypatch.setattr("sys.stdin", io.StringIO("the one in the bottom right box\n\n\n"))
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC.to_dict()))
    out = tmp_path / "d.png"
    args = ["picking", "run", "Put the block into the top right box", "--spec", str(spec)]
    assert main([*args, "--oracle-boxes", "--out", str(out)]) == 0
    assert out.stat().st_size > 0 and "-> tr" in capsys.readouterr().err


def test_http_decide(tiny: model.Grounder) -> None:
    client = TestClient(create_app())
    ask = {"scene": SPEC.to_dict(), "instruction": "Put the block into the top right box"}
    r = client.post("/api/picking/decide", json={**ask, "oracle_boxes": True})
    assert r.status_code == 503 and "otemachi picking train" in r.json()["detail"]
    store_as_default(tiny)
    r = client.post(
        "/api/picking/decide",
        json={**ask, "oracle_boxes": True, "answers": ["the one in the bottom right box"]},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["target"] == "b" and got["destination"] == "tr", got
    assert got["question"] is None and got["questions_asked"] == 1 and got["confidence"] >= 0.75
    bad = client.post(
        "/api/picking/decide", json={**ask, "scene": {"objects": []}, "oracle_boxes": True}
    )
    assert bad.status_code == 422 and "at least one object" in bad.json()["detail"]
    empty = client.post("/api/picking/decide", json={**ask, "instruction": ""})
    assert empty.status_code == 422


def test_an_episode_with_nothing_seen_is_lost_not_fatal(
    tiny: model.Grounder, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
    monkeypatch.setattr(detect, "detect", lambda *a, **k: empty)  # a detector that sees nothing
    result, rows = evaluate.run(episodes.make(2, 3), tiny, detector=object())  # type: ignore[arg-type]
    assert result["episodes"] == 2 and result["target_accuracy"] == 0.0
    assert [r.candidates for r in rows] == [0, 0]


def store_small_lm() -> None:
    """A domain language model from 60 scenes, stored where `train-asr` stores the default."""
    asr_models.build_lm(asr_models.LMConfig(), lexicon.corpus(60))


def test_spoken_episodes_are_heard_end_to_end(
    tiny: model.Grounder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_as_default(tiny)
    store_small_lm()
    eps = episodes.make(4, 9)
    lines = []
    for i, e in enumerate(eps[:2]):  # two with audio files, relative to the episodes file
        speech.save(e.instruction, tmp_path / f"i{i}.wav", "en-gb-x-rp+f4")
        row = {**e.to_dict(), "audio": f"i{i}.wav"}
        if e.clarification:
            speech.save(e.clarification, tmp_path / f"c{i}.wav", "en-gb-x-rp+f4")
            row["clarification_audio"] = f"c{i}.wav"
        lines.append(json.dumps(row))
    lines += [json.dumps(e.to_dict()) for e in eps[2:]]
    path = tmp_path / "eps.jsonl"
    path.write_text("\n".join(lines) + "\n")
    args = ["picking", "evaluate", "--episodes", str(path), "--oracle-boxes", "--json"]
    assert main([*args, "--asr", "pocketsphinx"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert {"wer", "wer_clarification", "asr_ms_p50", "asr_ms_p95", "rtf"} <= set(got)
    assert 0 <= got["wer"] <= 2 and got["asr_ms_p50"] > 0 and got["rtf"] > 0
    assert set(got["by_voice"]) == {"file", "typed"} and got["by_voice"]["file"]["episodes"] == 2
    assert main([*args, "--asr", "pocketsphinx", "--speak", "en-us-nyc+m6,en-029+f3"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got["by_voice"]) == {"file", "en-us-nyc+m6", "en-029+f3"}
    assert got["person_answers"] == 0
    spoken = ["--asr", "pocketsphinx", "--speak", "en-us-nyc+m6"]
    assert main([*args, *spoken, "--person"]) == 0  # the simulated person answers, aloud
    got = json.loads(capsys.readouterr().out)
    assert 1 <= got["person_answers"] <= got["questions_asked"], got
    assert main([*args, "--speak", "xx-nope"]) == 2
    assert "espeak-ng has no voice 'xx-nope'" in capsys.readouterr().err


def test_cli_transcribe_and_run_from_audio(
    tiny: model.Grounder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_as_default(tiny)
    store_small_lm()
    said = speech.save("put the block into the top right box", tmp_path / "said.wav")
    assert main(["picking", "transcribe", str(said), "--asr", "pocketsphinx", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["file"] == str(said) and got["backend"] == "pocketsphinx" and got["text"]
    assert {"word", "start", "end", "confidence"} <= set(got["words"][0])
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC.to_dict()))
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{said}\n\n\n"))  # answers a question by audio
    out = tmp_path / "d.png"
    args = ["picking", "run", "--audio", str(said), "--spec", str(spec), "--oracle-boxes"]
    assert main([*args, "--asr", "pocketsphinx", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "heard (pocketsphinx" in err and out.exists()
    assert main(["picking", "run", "--spec", str(spec)]) == 2
    assert "exactly one of an instruction or --audio" in capsys.readouterr().err
    assert main(["picking", "transcribe", str(spec), "--asr", "pocketsphinx"]) == 2
    assert "is not readable audio" in capsys.readouterr().err


def test_http_decide_hears_an_upload_and_speaks_its_question(tiny: model.Grounder) -> None:
    store_as_default(tiny)
    store_small_lm()
    client = TestClient(create_app())
    wav = audio.to_wav(speech.say("move the block to the top right box"))
    form = {"scene": json.dumps(SPEC.to_dict()), "asr": "pocketsphinx", "oracle_boxes": "true"}
    r = client.post("/api/picking/decide", data=form, files={"audio": ("said.wav", wav)})
    assert r.status_code == 200, r.text
    got = r.json()
    heard = got["transcript"]
    assert heard["backend"] == "pocketsphinx" and heard["text"]
    assert heard["doubtful"] == (heard["confidence"] < DOUBT_BELOW["pocketsphinx"])
    assert heard["readings"] == []  # pocketsphinx gives one reading; rnn its likeliest ones
    assert got["destination"] in ("tl", "tr", "bl", "br")
    asked = client.post(
        "/api/picking/decide",
        json={"scene": SPEC.to_dict(), "instruction": "move the block to the top right box",
              "oracle_boxes": True},
    )  # fmt: skip
    assert asked.json()["question"] is not None
    spoken = client.get(asked.json()["question_audio"])
    assert spoken.status_code == 200 and spoken.headers["content-type"] == "audio/wav"
    assert len(audio.read(spoken.content)) > audio.RATE // 2
    for files, data, reason in (
        ({}, form, "needs a file field 'audio'"),
        ({"audio": ("x.wav", b"garbage" * 20)}, form, "is not readable audio"),
        ({"audio": ("x.wav", wav)}, {**form, "scene": "{not json"}, "must be the scene spec"),
        ({"audio": ("x.wav", wav)}, {**form, "asr": "whisper"}, "--asr must be one of"),
    ):
        bad = client.post("/api/picking/decide", data=data, files=files or {"x": ("x", b"")})
        assert bad.status_code == 422 and reason in bad.json()["detail"], bad.text
    assert client.get("/api/picking/questions/0123.wav").status_code == 404
    answer = audio.to_wav(speech.say("the one in the bottom right box"))
    both = client.post(
        "/api/picking/decide", data=form,
        files=[("audio", ("said.wav", wav)), ("answer_audio", ("answer.wav", answer))],
    )  # fmt: skip
    assert both.status_code == 200, both.text
    assert [a["backend"] for a in both.json()["answer_transcripts"]] == ["pocketsphinx"]
    too_many = client.post(
        "/api/picking/decide", data={**form, "answers": ["the red one", "the left one"]},
        files=[("audio", ("said.wav", wav)), ("answer_audio", ("answer.wav", answer))],
    )  # fmt: skip
    assert too_many.status_code == 422 and "at most 2 answers" in too_many.json()["detail"]
