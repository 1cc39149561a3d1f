"""Screenshots of the web app's pages for the README (docs/screenshots/), taken in Debian's
Chromium from `otemachi serve` on the models stored under OTEMACHI_HOME (train them first: the
picking grounder and detector, the signatures base, `markets train --data sp500`). The
signatures page uses a throwaway store and API key, and a synthetic writer no base saw.

    python scripts/screenshots.py [--out docs/screenshots]
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from otemachi.signatures import data
from otemachi.signatures.store import open_store
from tests.services import AppServer


def markets(page: Page) -> None:
    page.fill("#bars", "60")
    page.fill("#speed", "30")
    page.click("#start")
    page.wait_for_selector("#message.good", timeout=120_000)


def picking(page: Page) -> None:
    page.wait_for_function("document.getElementById('caption').textContent !== ''")
    page.fill("#instruction", "move the orange duck to the top left box")  # scene of seed 0
    page.click("#decide")
    page.wait_for_function("document.getElementById('camera').dataset.marked === '1'")


def signatures(page: Page, key: str, folder: Path) -> None:
    page.fill("#key", key)
    page.fill("#enroll-user", "customer-0042")
    page.set_input_files("#enroll-files", [str(folder / f"g{i}.png") for i in range(3)])
    page.click("#enroll")
    page.wait_for_selector("#enroll-result.good", timeout=120_000)
    page.set_input_files("#verify-file", str(folder / "g3.png"))
    page.click("#verify")
    page.wait_for_selector("#verdict #decision", timeout=60_000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp())
    corpus = data.SynthDataset(1, n_genuine=4, n_forgeries=0, seed=4242, prefix="shot")
    for i, image in enumerate(corpus.iter_genuine(corpus.writers()[0])):
        Image.fromarray(image).save(folder / f"g{i}.png")
    store = str(folder / "users.db")
    key = open_store(store).create_key("screenshots")
    server = AppServer(folder / "server.log", {"OTEMACHI_SIGNATURES_STORE": store})
    steps = {
        "index": ("/", lambda p: p.wait_for_selector("section[data-system]")),
        "markets": ("/markets", markets),
        "picking": ("/picking", picking),
        "signatures": ("/signatures", lambda p: signatures(p, key, folder)),
    }
    try:
        with sync_playwright() as pw:
            exe = shutil.which("chromium")
            if exe is None:
                raise SystemExit("Debian's chromium is not installed: run `make setup`")
            browser = pw.chromium.launch(executable_path=exe)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)
            for name, (path, act) in steps.items():
                page.goto(server.url + path)
                page.wait_for_load_state("networkidle")
                act(page)
                page.screenshot(path=str(out / f"{name}.png"), full_page=True)
                print(out / f"{name}.png")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
