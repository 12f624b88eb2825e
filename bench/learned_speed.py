"""Learned engines' speed and memory, with stand-in models of the real ones' shape.

    python -m bench.learned_speed [--repeats 3] [--engines migan lama] [--option KEY=VALUE ...]

The real MI-GAN and LaMa files cannot be downloaded here, so bench/standin_models.py builds
graphs of the same shape with random weights (into bench/out/, never committed). Random
weights cannot pass the engines' self-check (it tests the fill's colours), which runs when a
file is vetted (opened and checked in a child process, eraser/engines/vetting.py), so the timed
process skips the vetting; everything else is the real code path:
`eraser.engines.get(name, file).load()` and `eraser.erase` with that engine.

Each engine runs in a fresh process, so its peak memory (VmHWM) is its own. It reports:
session creation (one `load()`), one 512 window through `engine.inpaint` (the first call,
then the median of the repeats), and decode + erase + encode of a 12 MP JPEG with one
300 px object (the median of the repeats, the session already made). Last, once, the
vetting a file gets on first use, timed: it ends in a refusal (random weights) after the
whole check has run, so it costs what a pass would.

`--option` sets an onnxruntime SessionOptions field in the child, to try a tuning without
changing the engine: enable_cpu_mem_arena=0, intra_op_num_threads=1,
graph_optimization_level=extended (disable|basic|extended|all), enable_mem_pattern=0,
allow_spinning=0 (the session config entry session.intra_op.allow_spinning).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, HEIGHT = 4000, 3000
BLOB = 300
WINDOW = 512
TARGETS = {
    "migan": ("12 MP object erase within 1.5 s in-process, peak under 600 MB", 1.5, 600),
    "lama": ("peak under 1.2 GB", None, 1200),
}
LEVELS = {"disable": "ORT_DISABLE_ALL", "basic": "ORT_ENABLE_BASIC", "extended": "ORT_ENABLE_EXTENDED",
          "all": "ORT_ENABLE_ALL"}


def _make_inputs(folder: Path) -> None:
    import numpy as np

    from bench.inputs import blob, encode, scene

    pixels = scene(WIDTH, HEIGHT)
    mask = blob(WIDTH, HEIGHT, (WIDTH // 2, HEIGHT * 2 // 3), BLOB)
    pixels[mask] = (30, 30, 30)  # the object
    (folder / "photo.jpg").write_bytes(encode(pixels, "JPEG", quality=90))
    (folder / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))


def _memory_mb(field: str) -> float:
    # VmHWM starts afresh at exec; ru_maxrss would carry the parent's peak over.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _apply_options(options: dict[str, str]) -> None:
    """Make every SessionOptions the engine creates carry `options` (a bench-only experiment)."""
    import onnxruntime as ort

    base = ort.SessionOptions

    def session_options():
        made = base()
        for key, value in options.items():
            if key == "allow_spinning":  # idle worker threads spin by default, which a busy machine punishes
                made.add_session_config_entry("session.intra_op.allow_spinning", value)
                continue
            if key == "graph_optimization_level":
                value = getattr(ort.GraphOptimizationLevel, LEVELS[value])
            elif key in ("enable_cpu_mem_arena", "enable_mem_pattern"):
                value = value not in ("0", "false", "False")
            else:
                value = int(value)
            setattr(made, key, value)
        return made

    ort.SessionOptions = session_options


def _run_child(name: str, model: str, photo_path: str, mask_path: str, repeats: int, options: dict,
               raw: str | None) -> None:
    """In a fresh process: time one engine, print JSON."""
    from eraser.engines import vetting

    # Random weights cannot pass the check; bench only. What else vetting tells the engine (the
    # tensor a uint8 answer is cast from, found by the parent) is kept.
    vet, vetting.vet = vetting.vet, lambda *args: raw
    if options:
        _apply_options(options)

    from bench.inputs import blob, scene
    from eraser import Photo, engines, erase, load_mask
    from eraser.errors import EraserError

    start = time.perf_counter()
    engine = engines.get(name, model).load()
    session = time.perf_counter() - start
    after_load = _memory_mb("VmHWM")

    # One window as the crop strategy hands it over: 512 px with the grown object inside.
    rgb = scene(WINDOW, WINDOW, seed=1)
    hole = blob(WINDOW, WINDOW, (WINDOW // 2, WINDOW // 2), WINDOW // 2)
    windows, cpu = [], []
    for _ in range(repeats + 1):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        engine.inpaint(rgb, hole)
        windows.append(time.perf_counter() - begin)
        cpu.append(time.process_time() - begin_cpu)
    after_windows = _memory_mb("VmHWM")

    totals, totals_cpu, erases = [], [], []
    for _ in range(repeats):
        begin, begin_cpu = time.perf_counter(), time.process_time()
        photo = Photo.open(Path(photo_path).read_bytes(), name="bench.jpg")
        mask = load_mask(Path(mask_path).read_bytes(), photo.size)
        begin_erase = time.perf_counter()
        result = erase(photo, mask, engine=engine)
        erases.append(time.perf_counter() - begin_erase)
        if result.filled_by != engine.title:  # a fallback engine must not be timed in its place
            raise SystemExit(f"the photo was filled by {result.filled_by}, not {engine.title}")
        result.encode()
        totals.append(time.perf_counter() - begin)
        totals_cpu.append(time.process_time() - begin_cpu)
        del photo, mask, result
    begin = time.perf_counter()
    try:
        vet(name, Path(model), Path(model).stat())
        vetted = "passed"
    except EraserError as error:
        vetted = str(error)
    vetting_s = time.perf_counter() - begin
    print(json.dumps({
        "vetting": vetting_s, "vetted": vetted,
        "session": session, "first_window": windows[0], "window": statistics.median(windows[1:]),
        "window_cpu": statistics.median(cpu[1:]),
        "total": statistics.median(totals),
        "total_cpu": statistics.median(totals_cpu), "erase": statistics.median(erases),
        "peak_after_load_mb": after_load, "peak_after_windows_mb": after_windows, "peak_mb": _memory_mb("VmHWM"),
        "rss_end_mb": _memory_mb("VmRSS"),  # what the process keeps once the erase is done
    }))


def _child(name: str, model: Path, folder: Path, repeats: int, options: dict) -> dict:
    from eraser.engines import get

    raw = json.dumps(get(name, model).raw_output(model))
    args = [name, str(model), str(folder / "photo.jpg"), str(folder / "mask.png"), str(repeats),
            json.dumps(options), raw]
    done = subprocess.run([sys.executable, "-m", "bench.learned_speed", "--child", *args],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _parse_options(pairs: list[str]) -> dict[str, str]:
    options = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if not value:
            raise SystemExit(f"--option wants KEY=VALUE, got {pair!r}")
        if key == "graph_optimization_level" and value not in LEVELS:
            raise SystemExit(f"graph_optimization_level is one of {', '.join(LEVELS)}")
        options[key] = value
    return options


def main() -> None:
    from bench.standin_models import build

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--models", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, model, photo, mask, repeats, options, raw = args.child
        _run_child(name, model, photo, mask, int(repeats), json.loads(options), json.loads(raw))
        return

    options = _parse_options(args.option)
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _make_inputs(folder)
        for name in args.engines:
            model, info = build(args.models, name)
            rows.append((name, info, _child(name, model, folder, args.repeats, options)))

    print(f"Load average (1 min) on this shared machine: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
          f"on {os.cpu_count()} cores: wall times include waiting for a core; CPU s is this process's own time.")
    print("Stand-in models with random weights, of the real files' shape (bench/standin_models.py);")
    print("the timed processes skip the vetting (random weights cannot pass its self-check); "
          "it is timed once at the end.")
    print(f"SessionOptions: {options or 'as the engine sets them'}. Times: medians of {args.repeats} runs "
          f"after a first call; photo {WIDTH}x{HEIGHT} JPEG, one {BLOB} px object.")
    print("| engine | stand-in: MB, parameters, conv MACs | session (s) | first window (s) "
          "| 512 window (s; CPU s) | 12 MP decode+erase+encode (s; CPU s) | erase (s) "
          "| peak: after load, after windows, at the end (MB) | held after (MB) | first-use vetting (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, info, r in rows:
        shape = f"{info['bytes'] / 1e6:.0f} MB, {info['params'] / 1e6:.1f} M, {info['macs'] / 1e9:.1f} G"
        peaks = f"{r['peak_after_load_mb']:.0f}, {r['peak_after_windows_mb']:.0f}, {r['peak_mb']:.0f}"
        print(f"| {name} | {shape} | {r['session']:.2f} | {r['first_window']:.2f} "
              f"| {r['window']:.2f}; {r['window_cpu']:.2f} | {r['total']:.2f}; {r['total_cpu']:.2f} "
              f"| {r['erase']:.2f} | {peaks} | {r['rss_end_mb']:.0f} | {r['vetting']:.2f} |")
    print()
    for name, _, r in rows:
        print(f"{name} vetting: {r['vetted']}")
    print()
    print("| engine | target | measured | met |")
    print("|---|---|---|---|")
    for name, _, r in rows:
        text, seconds, megabytes = TARGETS[name]
        measured = (f"{r['total']:.2f} s (CPU {r['total_cpu']:.2f} s), " if seconds else "") + f"{r['peak_mb']:.0f} MB"
        met = (seconds is None or r["total"] <= seconds) and r["peak_mb"] <= megabytes
        print(f"| {name} | {text} | {measured} | {'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
