"""Speed of the Erase page on 12 MP JPEGs of about 3 MB, against the targets of the app issues.

    python -m bench.app_speed [--runs 3]

Server rows run the page in-process with AppTest and a stand-in canvas; browser rows run
`streamlit run app.py` in Debian Chromium (/usr/bin/chromium) in a 1366 x 768 window. Each run
uses a photo the server has not seen, so nothing comes from a cache. "Erase click to erased
photo on the canvas" ends when the new canvas's background shows the erased photo, with the fast
engine (telea) and the default (auto), each clicked at once and at a person's pace (ERASES).
Prints a Markdown table of medians.
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import streamlit as st
from playwright.sync_api import expect, sync_playwright
from streamlit.testing.v1 import AppTest

from bench.harness import ROOT, Canvas, launch_chromium, running_app
from bench.inputs import encode, scene
from eraser import engines

expect.set_options(timeout=15_000)  # a shared, busy machine

SIZE = (4000, 3000)
QUALITY = 86  # about 3 MB for this scene

# In-page: when the canvas's background layer has pixels, and when the photo's upload ended.
CANVAS_SHOWN = """() => {
    for (const host of document.querySelectorAll('*')) {
        const c = host.shadowRoot && host.shadowRoot.querySelector('canvas.dc-background-canvas');
        if (c && c.width > 0 && c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data[3] > 0) {
            return performance.now();
        }
    }
    return null;
}"""
# In-page: when a canvas background that was not there before (see MARK_CANVASES) has pixels.
MARK_CANVASES = """() => {
    for (const host of document.querySelectorAll('*')) {
        const c = host.shadowRoot && host.shadowRoot.querySelector('canvas.dc-background-canvas');
        if (c) c.dataset.before = '1';
    }
}"""
NEW_CANVAS_SHOWN = CANVAS_SHOWN.replace("if (c && c.width", "if (c && !c.dataset.before && c.width")
# The canvas a person draws on: Streamlit leaves the previous run's elements on screen, marked
# stale, until the rerun replaces them.
LIVE_CANVAS = "[class*='st-key-eraser_canvas']:not([data-stale='true'])"
STALE = "[data-stale='true']"
# (engine, pause): Erase clicked as soon as it is enabled after the stroke, and at a person's pace,
# who takes about a second to move from the canvas to the button (the page fills ahead meanwhile).
ERASES = (("telea", 0.0), ("auto", 0.0), ("telea", 1.0), ("auto", 1.0), ("auto", 0.5))
UPLOAD_ENDED = """() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/_stcore/upload_file')).map(e => e.responseEnd).pop()"""


def photo(seed: int) -> bytes:
    return encode(scene(*SIZE, seed=seed), "JPEG", quality=QUALITY)


def data_url_kb(jpeg: bytes) -> float:
    return (len("data:image/jpeg;base64,") + 4 * -(-len(jpeg) // 3)) / 1000


def upload(fake: Canvas, data: bytes) -> tuple[AppTest, float, float]:
    """A fresh session with empty caches, and how long the page ran after the upload (seconds,
    and CPU seconds of the process)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    fake.drawings.clear()  # a new session's canvases are empty (their keys repeat across sessions)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    app.file_uploader[0].set_value(("photo.jpg", data, "image/jpeg"))
    start, start_cpu = time.perf_counter(), time.process_time()
    app.run()
    return app, time.perf_counter() - start, time.process_time() - start_cpu


def server_rows(photos: list[bytes]) -> dict[str, list[float]]:
    fake = Canvas()
    sys.modules["streamlit_drawable_canvas"] = fake.module()
    rows: dict[str, list[float]] = {}
    for data in photos:
        app, seconds, cpu = upload(fake, data)
        rows.setdefault("Server: page run after the upload (first look + canvas JPEG), s", []).append(seconds)
        rows.setdefault("Server CPU: page run after the upload, s", []).append(cpu)
        background = fake.calls[-1]["background_image"]
        start = time.perf_counter()
        app.run()  # the run a browser's canvas asks for once it is shown
        rows.setdefault("Server: the run after that (the whole photo decoded), s", []).append(
            time.perf_counter() - start)
        rows.setdefault("Canvas background JPEG, KB", []).append(len(background) / 1000)
        rows.setdefault("Canvas background as sent (base64 data URL), KB", []).append(data_url_kb(background))
        fake.paint()
        start = time.perf_counter()
        app.run()
        rows.setdefault("Server: page run after a brush stroke, s", []).append(time.perf_counter() - start)
        (erase,) = [b for b in app.button if b.label == "Erase"]
        erase.click()
        old_key = fake.calls[-1]["key"]
        start, start_cpu = time.perf_counter(), time.process_time()
        app.run()
        end, end_cpu = time.perf_counter(), time.process_time()
        drawn = next(call for call in fake.calls if call["at"] > start and call["key"] != old_key)
        rows.setdefault("Server: Erase click to the new canvas drawn (auto engine), s", []).append(drawn["at"] - start)
        # CPU seconds of all the server's threads: what a busy machine stretches, but does not add to.
        rows.setdefault("Server CPU: Erase click to the new canvas drawn (auto engine), s", []).append(
            drawn["cpu"] - start_cpu)
        rows.setdefault("Server: page run after Erase, to its end (auto engine), s", []).append(end - start)
        rows.setdefault("Server CPU: page run after Erase, to its end (auto engine), s", []).append(end_cpu - start_cpu)
    # The worst case for the payload: random noise filling the largest canvas, nothing to average out.
    noise = np.random.default_rng(0).integers(0, 256, (520, 704, 3), dtype=np.uint8)
    upload(fake, encode(noise, "PNG"))
    rows["Canvas background as sent, worst case (704x520 random noise), KB"] = [
        data_url_kb(fake.calls[-1]["background_image"])
    ]
    return rows


def browser_rows(photos: list[Path]) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp) / "server.log") as (url, server):
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for path in photos:
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                page = context.new_page()
                received: list[int] = []
                def count_frames(ws, received=received):
                    ws.on("framereceived", lambda frame: received.append(len(frame)))

                page.on("websocket", count_frames)
                page.goto(url)
                page.get_by_test_id("stFileUploader").first.wait_for()
                page.locator("input[type=file]").first.set_input_files(path)
                before = len(received)
                shown = page.wait_for_function(CANVAS_SHOWN, polling="raf", timeout=60_000).json_value()
                ended = page.evaluate(UPLOAD_ENDED)
                rows.setdefault("Browser: upload finished to canvas shown, s", []).append((shown - ended) / 1000)
                rows.setdefault("Browser: websocket bytes received meanwhile, KB", []).append(
                    sum(received[before:]) / 1000
                )

                for step, (engine, pause) in enumerate(ERASES, start=1):
                    choose_engine(page, engine)
                    seconds = erase_to_canvas(page, step, box=(0.05 + 0.18 * (step - 1), 0.6), pause=pause)
                    when = "at once" if pause == 0 else f"{pause:g} s after the stroke"
                    rows.setdefault(f"Browser: Erase click ({when}) to erased photo on the canvas ({engine}), s",
                                    []).append(seconds)
                context.close()
            browser.close()
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        rows["Server peak memory after all runs (VmHWM), MB"] = [peak_kb / 1024]
    return rows


def choose_engine(page, engine: str) -> None:
    """Pick an engine in the sidebar's radio buttons, by the words the page shows for it."""
    label = engines.labels()[engine]
    choice = page.get_by_test_id("stSidebar").get_by_role("radiogroup", name="Engine").get_by_role(
        "radio", name=re.compile("^" + re.escape(label)))  # "— unavailable here" may follow
    if not choice.is_checked():
        choice.check(force=True)  # the input is hidden under Streamlit's own dot
    expect(choice).to_be_checked()
    expect(page.locator(STALE)).to_have_count(0)  # the page's rerun for the choice has ended


def erase_to_canvas(page, step: int, box: tuple[float, float], pause: float = 0.0) -> float:
    """Paint a stroke, press Erase `pause` s after the stroke's run has ended (0: as soon as
    Erase is enabled), and time until the erased photo is on the new canvas."""
    canvas = page.locator(LIVE_CANVAS).locator("canvas.upper-canvas")
    expect(canvas).to_have_count(1)
    canvas = canvas.bounding_box()
    x, y = canvas["x"] + canvas["width"] * box[0], canvas["y"] + canvas["height"] * box[1]
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + canvas["width"] * 0.1, y + canvas["height"] * 0.05, steps=10)
    page.mouse.up()
    erase = page.get_by_role("button", name="Erase", exact=True)
    expect(erase).to_be_enabled()  # the stroke has reached the server
    if pause:
        expect(page.locator(STALE)).to_have_count(0)  # and its run has ended
        page.wait_for_timeout(pause * 1000)
    page.evaluate(MARK_CANVASES)
    start = page.evaluate("performance.now()")
    erase.click()
    shown = page.wait_for_function(NEW_CANVAS_SHOWN, polling="raf", timeout=120_000).json_value()
    expect(page.get_by_text(f"Erase {step} done")).to_be_visible()
    return (shown - start) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    photos = [photo(seed) for seed in range(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for seed in range(args.runs):
            path = Path(tmp) / f"photo{seed}.jpg"
            path.write_bytes(photo(100 + seed))  # not the server rows' photos: no warm cache
            paths.append(path)
        rows = {**server_rows(photos), **browser_rows(paths)}

    sizes = ", ".join(f"{len(p) / 1e6:.2f}" for p in photos)
    print(f"{SIZE[0]}x{SIZE[1]} JPEG, quality {QUALITY}, {sizes} MB; median of {args.runs} runs\n")
    print("| measure | median | min | max |")
    print("|---|---:|---:|---:|")
    for name, values in rows.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")


if __name__ == "__main__":
    main()
