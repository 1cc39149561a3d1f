"""A served app with small stored models of every system and a real redis-server as its markets
bus, and Debian's Chromium driven by Playwright, with a fake microphone that plays a WAV
espeak-ng spoke."""

import dataclasses
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from otemachi.core.seeding import torch_seeded
from otemachi.markets import train as markets_train
from otemachi.markets.model import RNNConfig, RNNForecaster
from otemachi.picking import detect as picking_detect
from otemachi.picking import model as picking_model
from otemachi.picking import speech
from otemachi.picking import train as picking_train
from otemachi.picking.asr import lexicon
from otemachi.picking.asr import models as asr_models
from otemachi.signatures import data as signatures_data
from otemachi.signatures import train as signatures_train
from otemachi.signatures.api import base_config
from otemachi.signatures.store import open_store
from tests.services import AppServer, RedisServer

SIGNATURES_BASE = "dev_writers=30,calib_writers=6,epochs=2,n_negatives=50"
GROUNDER = picking_model.GroundConfig(
    text_examples=800,
    reader_epochs=2,
    readers=1,
    looks_scenes=10,
    looks_epochs=2,
    fit_scenes=3,
    fit_steps=2,
)
DETECTOR = picking_detect.DetectorConfig(width=8)
SPOKEN = "move the duck to the bottom right box"
ARTIFACTS = Path(os.environ.get("OTEMACHI_TEST_ARTIFACTS", "test-artifacts")) / "browser"


@dataclasses.dataclass(frozen=True)
class Served:
    url: str
    api_key: str
    folder: Path  # where the test inputs (signature images, the spoken WAV) are


def _store_models(home: Path) -> None:
    """Small stored models: a forecaster and a detector (untrained weights), a grounder and a
    recogniser language model trained in seconds, and a signatures base."""
    with torch_seeded(0):
        model = markets_train.RNNModel(RNNConfig(hidden=8, layers=1), markets_train.TrainConfig())
        model.net = RNNForecaster(model.cfg).eval()
    markets_train.save_model(model, "sp500-gru", "browser-test", {})
    with torch_seeded(0):  # a detector with untrained weights: it finds boxes, not objects
        ssd = picking_detect.build(DETECTOR)
    picking_detect.ARTIFACT.save(picking_detect.DetectorConfig(), ssd.state_dict(), {},
                                 rebuild=DETECTOR)  # fmt: skip
    grounder = picking_train.train_grounder(GROUNDER)
    picking_model.save(dataclasses.replace(grounder, config=picking_model.GroundConfig()))
    asr_models.build_lm(asr_models.LMConfig(), lexicon.corpus(60))
    signatures_train.base(base_config(SIGNATURES_BASE))


def _inputs(folder: Path) -> None:
    """Four genuine signatures of a writer no base saw, and the spoken WAV."""
    corpus = signatures_data.SynthDataset(1, n_genuine=4, n_forgeries=0, seed=91, prefix="web")
    for i, image in enumerate(corpus.iter_genuine(corpus.writers()[0])):
        Image.fromarray(image).save(folder / f"genuine{i}.png")
    speech.save(SPOKEN, folder / "spoken.wav", "en-us+m3")


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("web-home")
    folder = tmp_path_factory.mktemp("web-inputs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OTEMACHI_HOME", str(home))
        _store_models(home)
    _inputs(folder)
    store = str(home / "users.db")
    key = open_store(store).create_key("browser tests")
    (folder / "redis").mkdir()
    redis = RedisServer(folder / "redis")  # the live forecasts' bus (empty: no stream runs)
    env = {"OTEMACHI_HOME": str(home), "OTEMACHI_SIGNATURES_STORE": store,
           "OTEMACHI_SIGNATURES_BASE": SIGNATURES_BASE,
           "OTEMACHI_MARKETS_BUS": redis.url}  # fmt: skip
    try:
        server = AppServer(folder / "server.log", env)
        try:
            yield Served(server.url, key, folder)
        finally:
            server.stop()
    finally:
        redis.stop()


@pytest.fixture(scope="package")
def browser(served: Served) -> Iterator[Browser]:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is not installed: run `make setup` (scripts/sysdeps.sh)")
    args = [
        "--use-fake-ui-for-media-stream",  # allow the microphone without asking
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={served.folder / 'spoken.wav'}%noloop",
        "--autoplay-policy=no-user-gesture-required",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=args, chromium_sandbox=False)
        yield browser
        browser.close()


@dataclasses.dataclass
class Tab:
    """A page of the app and what its console reported as errors."""

    page: Page
    errors: list[str]
    base: str

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")
        return self.page


@pytest.fixture
def tab(browser: Browser, served: Served, request: pytest.FixtureRequest) -> Iterator[Tab]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield Tab(page, errors, served.url)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()
