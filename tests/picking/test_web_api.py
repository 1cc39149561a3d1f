"""The routes the picking page stands on: a scene's camera image, marked with a decision, and the
arm carrying a decision out in the simulation."""

import base64
import io
import threading

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from otemachi.picking import scene_api
from otemachi.server import create_app

DUCK = {"objects": [{"id": "d", "category": "duck", "color": "yellow", "size": "large",
                     "box": "tl", "x": 0.5, "y": 0.5}]}  # fmt: skip


def _image(data_url: str) -> Image.Image:
    head, _, body = data_url.partition(",")
    assert head == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(body))).convert("RGB")


def test_a_seed_gives_a_scene_and_a_mark_is_drawn() -> None:
    client = TestClient(create_app())
    first = client.post("/api/picking/scene", json={"seed": 5}).json()
    assert first == client.post("/api/picking/scene", json={"seed": 5}).json()  # reproducible
    plain = _image(first["image"])
    mark = {"box": [10, 10, 40, 40], "destination": "br", "label": ""}
    marked = _image(
        client.post("/api/picking/scene", json={"scene": first["scene"], "mark": mark}).json()[
            "image"
        ]
    )
    assert client.post("/api/picking/scene", json={"seed": -1}).status_code == 422
    assert plain.size == marked.size
    assert plain.getpixel((20, 60)) != marked.getpixel((20, 60))  # the red box's left edge
    assert marked.getpixel((20, 60))[0] > 200


def test_execute_moves_the_object_into_the_box() -> None:
    client = TestClient(create_app())
    done = client.post(
        "/api/picking/execute", json={"scene": DUCK, "target": "d", "destination": "br"}
    ).json()
    assert done["ok"] is True and done["failure"] is None, done
    before = _image(client.post("/api/picking/scene", json={"scene": DUCK}).json()["image"])
    assert _image(done["image"]).size == before.size and _image(done["image"]) != before


@pytest.mark.parametrize(
    ("route", "body", "says"),
    [
        ("scene", {}, "exactly one of seed"),
        ("scene", {"seed": 1, "scene": DUCK}, "exactly one of seed"),
        ("scene", {"scene": {"objects": []}}, "at least one object"),
        ("scene", {"scene": DUCK, "mark": {"box": [0, 0, 1e308, 5], "destination": "tl"}}, "box"),
        ("scene", {"seed": 3, "mark": {"box": [0, 0, -9, 5], "destination": "tl"}}, "x0 <= x1"),
        ("execute", {"scene": DUCK, "target": "x", "destination": "br"}, "no object 'x'"),
    ],
)
def test_bad_requests_say_what_was_wrong(route: str, body: dict[str, object], says: str) -> None:
    reply = TestClient(create_app()).post(f"/api/picking/{route}", json=body)
    assert reply.status_code == 422 and says in str(reply.json()["detail"]), reply.text


def test_a_busy_arm_says_so_instead_of_queueing(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(create_app())
    monkeypatch.setattr(scene_api, "ARMS", threading.BoundedSemaphore(1))
    with scene_api._slot(scene_api.ARMS, "held", 1):  # another request has the only arm
        busy = client.post(
            "/api/picking/execute", json={"scene": DUCK, "target": "d", "destination": "br"}
        )
    assert busy.status_code == 429 and "the arm is busy" in busy.json()["detail"]
    assert busy.headers["Retry-After"] == "5"
