"""Only the training commands and the demo may train. Every other command and every HTTP route,
run against an empty OTEMACHI_HOME, either works without a model or names the command that
trains the one it needs, and never enters the epoch loop (the one place training happens)."""

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import typer
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from otemachi.cli import app, main
from otemachi.core import training
from otemachi.picking import audio
from otemachi.server import create_app

TRAINING = {
    "demo",
    "markets backtest",  # walk-forward: refits every model on every fold, by definition
    "markets train",
    "picking train",
    "picking train-detector",
    "picking train-asr",
    "signatures train",
}
TONE = audio.to_wav(np.sin(np.arange(16_000) / 5).astype(np.float32) * 0.3)
SPEC = {"objects": [{"id": "a", "category": "duck", "box": "tl", "x": 0.5, "y": 0.5}]}


class TrainingStarted(BaseException):
    """Raised by the epoch loop under test; a BaseException so nothing can swallow it."""


@pytest.fixture(autouse=True)
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise TrainingStarted

    monkeypatch.setattr(training, "_optimizer", refuse)


def _commands(cmd: object, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    subs = getattr(cmd, "commands", None)
    if subs is None:
        yield " ".join(prefix)
        return
    for name, sub in subs.items():
        yield from _commands(sub, (*prefix, name))


def _invocations(tmp: Path) -> dict[str, tuple[list[str], str | None]]:
    """Command -> (arguments, the training command its error must name, or None if it works)."""
    spec, eps, sig = tmp / "spec.json", tmp / "eps.jsonl", tmp / "sig"
    spec.write_text(json.dumps(SPEC))
    picking, signatures = "run `otemachi picking train`", "run `otemachi signatures train`"
    png = tmp / "sig.png"
    png.write_bytes(b"not read: the base is missing first")
    move = "move the duck to the top right box"
    wav = tmp / "said.wav"
    wav.write_bytes(TONE)
    asr = "run `otemachi picking train-asr`"
    return {
        "version": (["version"], None),
        "markets data list": (["markets", "data", "list"], None),
        "markets stream": (["markets", "stream", "--source", "synthetic:2", "--bars", "30"],
                           "run `otemachi markets train --data NAME`"),
        "markets worker": (["markets", "worker", "--bus", "redis://127.0.0.1:9"],
                           "run `otemachi markets train --data NAME`"),
        "markets models list": (["markets", "models", "list"], None),
        "markets models promote": (["markets", "models", "promote", "abcd12"],
                                   "run `otemachi markets train --data NAME`"),
        "markets models rollback": (["markets", "models", "rollback"],
                                    "run `otemachi markets models promote VERSION`"),
        "picking scene": (["picking", "scene", "--spec", str(spec), "--out", str(tmp / "s.png")],
                          None),
        "picking pick": (["picking", "pick", "--spec", str(spec), "--object", "a", "--box", "br",
                          "--out", str(tmp / "pick")], None),
        "picking generate": (["picking", "generate", "--episodes", "2", "--out", str(eps)], None),
        "picking evaluate": (["picking", "evaluate", "--episodes", str(eps)], picking),
        "picking run": (["picking", "run", move, "--spec", str(spec)], picking),
        "picking transcribe": (["picking", "transcribe", str(wav)], asr),
        "picking run --audio": (["picking", "run", "--audio", str(wav), "--spec", str(spec),
                                 "--asr", "rnn"], asr),
        "signatures synth": (["signatures", "synth", "--writers", "2", "--genuine", "2",
                              "--out", str(tmp / "corpus")], None),
        "signatures evaluate": (["signatures", "evaluate", "--writers", "2", "--out", str(sig)],
                                signatures),
        "signatures enroll": (["signatures", "enroll", "alice", str(png)], signatures),
        "signatures verify": (["signatures", "verify", "alice", str(png)], signatures),
        "signatures bulk-enroll": (["signatures", "bulk-enroll", str(png)], signatures),
        "signatures bases": (["signatures", "bases"], None),
        "signatures migrate": (["signatures", "migrate", "--to", "abc"], "no stored base"),
        "signatures users list": (["signatures", "users", "list"], None),
        "signatures users show": (["signatures", "users", "show", "alice"], "no user 'alice'"),
        "signatures users delete": (["signatures", "users", "delete", "alice"], "no user 'alice'"),
        "signatures keys create": (["signatures", "keys", "create", "teller"], None),
        "signatures keys list": (["signatures", "keys", "list"], None),
        "signatures keys revoke": (["signatures", "keys", "revoke", "abc"], "no active API key"),
        "serve": ([], None),  # the app it serves is checked route by route below
    }  # fmt: skip


def test_every_command_is_a_training_command_or_never_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = _invocations(tmp_path)
    commands = set(_commands(typer.main.get_command(app)))
    assert commands == TRAINING | {r.split(" --")[0] for r in runs}, "classify every new command"
    for name, (args, needs) in runs.items():
        if not args:
            continue
        code = main(args)
        err = capsys.readouterr().err
        if needs is None:
            assert code == 0, (name, err)
        else:
            assert code == 2 and needs in err, (name, err)
            assert len(err.strip().splitlines()) == 1, err


def test_the_guard_catches_a_training_command() -> None:
    with pytest.raises(TrainingStarted):
        main(["picking", "train-detector", "--train-scenes", "1", "--epochs", "1"])


def test_no_route_trains_and_a_missing_model_is_a_503() -> None:
    client = TestClient(create_app())
    bodies = {
        ("POST", "/api/picking/decide"): {
            "scene": SPEC,
            "instruction": "move the duck to the tl box",
        },
    }
    png = ("s.png", b"\x89PNG\r\n\x1a\n", "image/png")
    uploads = {"/api/signatures/users/{user_id}/enroll": {"files": png},
               "/api/signatures/users/{user_id}/verify": {"file": png}}  # fmt: skip
    for route in create_app().routes:
        if not isinstance(route, APIRoute):
            continue
        for method in route.methods:
            body = bodies.get((method, route.path))
            r = client.request(method, route.path, json=body, files=uploads.get(route.path))
            if (method, route.path) in bodies:
                assert r.status_code == 503 and "otemachi picking train" in r.json()["detail"]
            elif route.path.startswith("/api/signatures/users"):  # the service needs the base
                assert r.status_code == 503, (method, route.path, r.text)
                assert "otemachi signatures train" in r.json()["detail"]
            elif route.path == "/api/markets/forecast/{symbol}":  # needs a stream, not a model
                assert r.status_code == 503 and "OTEMACHI_MARKETS_BUS" in r.json()["detail"]
            elif route.path == "/api/picking/questions/{key}.wav":  # only questions asked
                assert r.status_code == 404 and "no question" in r.json()["detail"]
            else:
                assert r.status_code == 200, (method, route.path, r.text)
    spoken = {"scene": json.dumps(SPEC)}
    r = client.post("/api/picking/decide", data=spoken, files={"audio": ("s.wav", TONE)})
    assert r.status_code == 503 and "otemachi picking train-asr" in r.json()["detail"]
