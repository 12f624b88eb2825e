"""The app's memory in a real `streamlit run` server: 20 visitors, each a 12 MP photo and 6 erases.

    python -m bench.server_memory [--sessions 20] [--erases 6] [--format jpeg png]

bench/app_memory.py drives the page with AppTest, which builds a fresh media store per run and
sends the upload again on every run: it leaves out what Streamlit itself holds in a server, the
Download button's file (the media file manager keeps each session's current photo while that
session's last run stands) and the uploader's file. Here each format gets its own
`streamlit run app.py` (ERASER_OFFLINE=1: `auto` fills objects with PatchMatch, as on a server
without the model; TMPDIR a folder of the bench's, so the steps it moves to disk can be counted)
and its own Debian Chromium. Each session is a new browser context at 1366 x 768 that uploads its
own 4000 x 3000 photo (bench/app_memory.py's, shifted per session so no cache is shared: JPEG at
quality 86, or PNG), paints a stroke and presses Erase `--erases` times at different spots
(bench/app_speed.py's erase_to_canvas), and then stays open, an idle visitor, to the end.

Only the server's process is measured (VmHWM and VmRSS from /proc; Chromium is not counted):
after each session, at the end, after 70 s more with nothing run (longer than
eraser.steps.IDLE_SECONDS, after which an idle session's current photo may move to disk, but
only when a store operation needs room), and after one more erase in the last session (such an
operation). Then each page's Download button gives the file it holds. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from bench.app_memory import MB, SIZE, _make_photos, _status
from bench.app_speed import CANVAS_SHOWN, STALE, erase_to_canvas
from bench.harness import launch_chromium, running_app
from eraser.steps import IDLE_SECONDS, PREFIX

WAIT = IDLE_SECONDS + 10
VIEWPORT = {"width": 1366, "height": 768}


def spot(n: int) -> tuple[float, float]:
    """Where the n-th stroke starts, in fractions of the canvas: a new place each time."""
    return 0.08 + 0.14 * (n % 6) + 0.05 * (n // 6), 0.3 + 0.1 * (n % 3)


def visit(browser, url: str, photo: Path, erases: int):
    """A new visitor: upload, then `erases` strokes each erased; the page is left open."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(url)
    page.get_by_test_id("stFileUploader").first.wait_for()
    page.locator("input[type=file]").first.set_input_files(photo)
    page.wait_for_function(CANVAS_SHOWN, polling="raf", timeout=300_000)
    for n in range(erases):
        erase_to_canvas(page, n + 1, spot(n))
    expect(page.locator(STALE)).to_have_count(0)
    return page


def downloaded(page) -> int:
    """The size of the file the page's Download button gives (what the media file manager holds)."""
    with page.expect_download(timeout=120_000) as event:
        page.get_by_role("button", name="Download").click()
    size = Path(event.value.path()).stat().st_size
    event.value.delete()
    return size


def on_disk(tmp: Path) -> int:
    """Bytes of the steps the server's store has moved to disk."""
    total = 0
    for path in tmp.glob(f"{PREFIX}*/*"):
        try:
            total += path.stat().st_size
        except OSError:  # deleted meanwhile
            pass
    return total


def run(folder: Path, fmt: str, sessions: int, erases: int) -> dict:
    photos = _make_photos(folder, fmt, sessions)
    server_tmp = folder / f"server-tmp-{fmt}"
    server_tmp.mkdir()
    env = {**os.environ, "ERASER_OFFLINE": "1", "TMPDIR": str(server_tmp)}
    result: dict = {"file": statistics.median(p.stat().st_size for p in photos),
                    "uploads": sum(p.stat().st_size for p in photos), "sessions": []}
    with running_app(folder / f"server-{fmt}.log", env=env) as (url, server), sync_playwright() as playwright:
        memory = lambda: (_status("VmHWM", server.pid), _status("VmRSS", server.pid))  # noqa: E731
        result["start"], result["load"] = memory()[1], [os.getloadavg()[0]]
        browser = launch_chromium(playwright)
        pages, start = [], time.perf_counter()
        for photo in photos:
            pages.append(visit(browser, url, photo, erases))
            result["sessions"].append(memory()[1])
            print(f"{fmt} session {len(pages)}: resident {result['sessions'][-1] / MB:.0f} MB",
                  file=sys.stderr, flush=True)
        result["seconds"] = time.perf_counter() - start
        result["end"], result["end_disk"] = memory(), on_disk(server_tmp)
        result["end_anon"] = _status("RssAnon", server.pid)  # the rest are mapped files: libraries' code
        time.sleep(WAIT)
        result["idle"], result["idle_disk"] = memory(), on_disk(server_tmp)
        erase_to_canvas(pages[-1], erases + 1, spot(erases))
        expect(pages[-1].locator(STALE)).to_have_count(0)
        result["more"], result["more_disk"] = memory(), on_disk(server_tmp)
        result["downloads"] = [downloaded(page) for page in pages]
        result["load"].append(os.getloadavg()[0])
        browser.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--erases", type=int, default=6)
    parser.add_argument("--format", nargs="+", choices=("jpeg", "png"), default=["jpeg", "png"])
    args = parser.parse_args()
    expect.set_options(timeout=60_000)  # a shared, busy machine: page runs wait for the CPU

    rows = []
    with tempfile.TemporaryDirectory(prefix="eraser-bench-") as tmp:
        for fmt in args.format:
            rows.append((fmt, run(Path(tmp), fmt, args.sessions, args.erases)))

    print(f"`streamlit run`, {args.sessions} sessions x {args.erases} erases, {SIZE[0]}x{SIZE[1]} photos, "
          f"engine auto without a learned model (objects: PatchMatch), {os.cpu_count()} cores\n")
    print("| photo | file, MB | server before any visitor, MB | peak (VmHWM), MB | resident at the end "
          f"(anonymous), MB | after {WAIT:.0f} s idle, MB | after one more erase: peak / resident, MB "
          "| steps on disk: end / after that erase, MB | uploads, MB | Download files, MB | run, s "
          "| load average, start / end |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for fmt, r in rows:
        print(f"| {fmt.upper()} | {r['file'] / MB:.1f} | {r['start'] / MB:.0f} | {r['end'][0] / MB:.0f} "
              f"| {r['end'][1] / MB:.0f} ({r['end_anon'] / MB:.0f}) | {r['idle'][1] / MB:.0f} "
              f"| {r['more'][0] / MB:.0f} / {r['more'][1] / MB:.0f} "
              f"| {r['end_disk'] / MB:.0f} / {r['more_disk'] / MB:.0f} "
              f"| {r['uploads'] / MB:.0f} | {sum(r['downloads']) / MB:.0f} | {r['seconds']:.0f} "
              f"| {r['load'][0]:.1f} / {r['load'][1]:.1f} |")
    print()
    for fmt, r in rows:
        print(f"- {fmt.upper()}, resident after each session, MB: " + ", ".join(f"{b / MB:.0f}" for b in r["sessions"]))


if __name__ == "__main__":
    main()
