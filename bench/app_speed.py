"""Speed of the Erase page on 12 MP JPEGs of about 3 MB, against the targets of the app issue.

    python -m bench.app_speed [--runs 3]

Server rows run the page in-process with AppTest and a stand-in canvas; browser rows run
`streamlit run app.py` in Debian Chromium (/usr/bin/chromium). Each run uses a photo the server
has not seen, so nothing comes from a cache. Prints a Markdown table of medians.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import streamlit as st
from playwright.sync_api import expect, sync_playwright
from streamlit.testing.v1 import AppTest

from tests.app.fake_canvas import FakeCanvas
from tests.e2e.server import ROOT, launch_chromium, running_app
from tests.photos import encode, scene

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
UPLOAD_ENDED = """() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/_stcore/upload_file')).map(e => e.responseEnd).pop()"""


def photo(seed: int) -> bytes:
    return encode(scene(*SIZE, seed=seed), "JPEG", quality=QUALITY)


def data_url_kb(jpeg: bytes) -> float:
    return (len("data:image/jpeg;base64,") + 4 * -(-len(jpeg) // 3)) / 1000


def upload(fake: FakeCanvas, data: bytes) -> tuple[AppTest, float]:
    """A fresh session with empty caches, and how long the page ran after the upload."""
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    app.file_uploader[0].set_value(("photo.jpg", data, "image/jpeg"))
    start = time.perf_counter()
    app.run()
    return app, time.perf_counter() - start


def server_rows(photos: list[bytes]) -> dict[str, list[float]]:
    fake = FakeCanvas()
    sys.modules["streamlit_drawable_canvas"] = fake.module()
    rows: dict[str, list[float]] = {}
    for data in photos:
        app, seconds = upload(fake, data)
        rows.setdefault("Server: page run after the upload (decode + canvas JPEG), s", []).append(seconds)
        background = fake.calls[-1]["background_image"]
        rows.setdefault("Canvas background JPEG, KB", []).append(len(background) / 1000)
        rows.setdefault("Canvas background as sent (base64 data URL), KB", []).append(data_url_kb(background))
        fake.paint()
        start = time.perf_counter()
        app.run()
        rows.setdefault("Server: page run after a brush stroke, s", []).append(time.perf_counter() - start)
    # The worst case for the payload: random noise filling the largest canvas, nothing to average out.
    noise = np.random.default_rng(0).integers(0, 256, (560, 704, 3), dtype=np.uint8)
    upload(fake, encode(noise, "PNG"))
    rows["Canvas background as sent, worst case (704x560 random noise), KB"] = [
        data_url_kb(fake.calls[-1]["background_image"])
    ]
    return rows


def browser_rows(photos: list[Path]) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp) / "server.log") as (url, server):
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for path in photos:
                context = browser.new_context(viewport={"width": 1280, "height": 1560})
                page = context.new_page()
                received: list[int] = []
                page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(len(f))))
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

                box = page.locator("canvas.upper-canvas").bounding_box()
                page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.6)
                page.mouse.down()
                page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.65, steps=10)
                page.mouse.up()
                erase = page.get_by_role("button", name="Erase", exact=True)
                expect(erase).to_be_enabled()  # the stroke has reached the server
                start = time.perf_counter()
                erase.click()
                page.get_by_role("button", name="Download", exact=True).wait_for(timeout=120_000)
                rows.setdefault("Browser: Erase click to result shown (auto engine), s", []).append(
                    time.perf_counter() - start
                )
                context.close()
            browser.close()
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        rows["Server peak memory after all runs (VmHWM), MB"] = [peak_kb / 1024]
    return rows


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
