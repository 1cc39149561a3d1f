"""The app in a real Chromium: every page loads clean, the markets chart follows a replay, a
typed and a spoken instruction are decided and marked, the arm carries a decision out, and a
person is enrolled and verified (and a wrong API key is told so). Screenshots go to
test-artifacts/browser/."""

import base64
import json
import wave
from pathlib import Path

import pytest

from tests.web.conftest import SPOKEN, Served, Tab

pytestmark = pytest.mark.browser

HOSTILE_ID = 'd<img src=x onerror="window.pwned=1">'  # a spec file's id is shown, never run
ONE_DUCK = {"objects": [{"id": HOSTILE_ID, "category": "duck", "color": "yellow", "size": "large",
                         "box": "tl", "x": 0.5, "y": 0.5}]}  # fmt: skip


@pytest.mark.parametrize("path", ["/", "/markets", "/picking", "/signatures"])
def test_every_page_loads_without_console_errors(tab: Tab, path: str) -> None:
    page = tab.open(path)
    assert page.locator("header a.brand").inner_text() == "otemachi"
    if path == "/":
        assert page.locator("section[data-system]").count() == 3
        assert "ok, version" in page.locator("#health").inner_text()
        assert "sp500-gru" in page.locator("section[data-system=markets]").inner_text()
    if path == "/picking":
        page.wait_for_function("document.getElementById('camera').naturalWidth > 0")
    assert tab.errors == []


def test_the_markets_chart_follows_a_replay(tab: Tab) -> None:
    page = tab.open("/markets")
    page.fill("#bars", "12")
    page.fill("#speed", "4")
    page.click("#start")
    chart = page.locator("section[data-symbol=SP500]")
    chart.wait_for()
    page.wait_for_function(  # the first draw is the warm-up history; then one per bar
        "Number(document.querySelector('section[data-symbol=SP500]').dataset.updates) >= 4"
    )
    assert chart.locator("table.forecast tr").count() == 4  # a header and h = 1, 5, 20
    assert "latency last" in page.locator("#status").inner_text()
    page.wait_for_selector("#message.good", timeout=30_000)  # the replay ends by itself
    assert "12 bar times" in page.locator("#message").inner_text()
    assert tab.errors == []


def _decided(tab: Tab) -> str:
    page = tab.page
    page.wait_for_selector("#decision p")
    page.wait_for_function("document.getElementById('camera').dataset.marked === '1'")
    return page.locator("#decision").inner_text()


def test_a_typed_instruction_is_decided_marked_and_carried_out(tab: Tab, served: Served) -> None:
    page = tab.open("/picking")
    spec = served.folder / "one-duck.json"
    spec.write_text(json.dumps(ONE_DUCK))
    page.set_input_files("#spec", str(spec))
    page.wait_for_function("document.getElementById('caption').textContent === '1 objects'")
    page.check("#oracle")
    page.fill("#instruction", "please put the yellow duck into the bottom right box")
    page.click("#decide")
    text = _decided(tab)
    assert f"target {HOSTILE_ID}" in text, text
    assert page.evaluate("window.pwned") is None
    if page.locator("#asking").is_visible():  # an unsure model asks; say where
        page.fill("#answer", "the bottom right box")
        page.click("#reply")
        page.wait_for_selector("#execute", state="visible")
    page.click("#execute")
    page.wait_for_selector("#after", state="visible", timeout=120_000)
    assert page.locator("#message").inner_text() == "placed"  # one duck: the arm can place it
    assert tab.errors == []


def test_a_spoken_instruction_goes_through_the_microphone(tab: Tab, served: Served) -> None:
    with wave.open(str(served.folder / "spoken.wav")) as w:
        seconds = w.getnframes() / w.getframerate()
    page = tab.open("/picking")
    page.check("#oracle")
    page.select_option("#asr", "pocketsphinx")
    page.click("#mic")
    page.wait_for_selector("#mic.recording")
    page.wait_for_timeout(1000 * seconds + 800)
    page.click("#mic")
    page.wait_for_selector("#transcript:has-text('heard (pocketsphinx)')")
    heard = page.locator("#transcript").inner_text().lower()
    assert any(word in heard for word in ("duck", "box", "move", "bottom", "right")), (
        f"the fake microphone played {SPOKEN!r}; the page shows {heard!r}"
    )
    _decided(tab)
    assert tab.errors == []


def _pick(tab: Tab, selector: str, files: list[Path]) -> None:
    tab.page.set_input_files(selector, [str(f) for f in files])


def _drop(tab: Tab, selector: str, files: list[Path]) -> None:
    """Drop ``files`` on an element as a drag from the desktop does (a DataTransfer of Files)."""
    payload = [(f.name, base64.b64encode(f.read_bytes()).decode()) for f in files]
    carried = tab.page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const [name, b64] of files) {
                const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], name, { type: "image/png" }));
            }
            return dt;
        }""",
        payload,
    )
    tab.page.dispatch_event(selector, "drop", {"dataTransfer": carried})


def test_enrol_verify_and_a_wrong_key(tab: Tab, served: Served) -> None:
    page = tab.open("/signatures")
    page.fill("#key", served.api_key)
    page.fill("#enroll-user", "alice")
    _drop(tab, "#enroll-drop", [served.folder / f"genuine{i}.png" for i in range(3)])
    assert page.locator("#enroll-thumbs img").count() == 3
    page.click("#enroll")
    page.wait_for_selector("#enroll-result.good")
    assert "enrolled alice" in page.locator("#enroll-result").inner_text()
    page.wait_for_selector("#users li")
    assert page.locator("#users li").all_inner_texts() == ["alice"]
    _pick(tab, "#verify-file", [served.folder / "genuine3.png"])
    page.click("#verify")
    verdict = page.locator("#verdict #decision")
    verdict.wait_for()
    assert "score" in verdict.inner_text() and "threshold" in verdict.inner_text()
    assert tab.errors == []

    page.fill("#key", "sig_00000000_not-a-key")
    page.click("#verify")
    page.wait_for_selector("#message.error")
    assert "the API key is not valid" in page.locator("#message").inner_text()
