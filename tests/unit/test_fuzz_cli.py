"""A bounded, seeded fuzz suite through the CLI: mutations and truncations of valid JPEG, PNG,
BMP and WEBP files, mutated masks, and the hand-made hostile files of tests/support/hostile.py. Each
run must exit 0 with a valid output or exit 2 with one `error:` line: no traceback, no run past
30 s, no peak over 1.5 GB. Two runs at a time: about 3 minutes on the shared 2-core machine."""

from __future__ import annotations

import io
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from tests.support.hostile import hostile_files, saved
from tests.support.photos import blob, encode, scene
from tests.unit.limits import run_limited

# Hundreds of `python -m eraser` runs under time and memory limits: the slow tier.
pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 96, 64
SECONDS, PEAK_MB = 30, 1536
PIXELS = scene(WIDTH, HEIGHT, seed=5)
MASK = encode(blob(WIDTH, HEIGHT, (48, 32), 18).astype(np.uint8) * 255)
SEEDS = {
    "jpeg-baseline": saved(Image.fromarray(PIXELS), "JPEG", quality=85),
    "jpeg-progressive-444": saved(Image.fromarray(PIXELS), "JPEG", progressive=True, subsampling=0),
    "png-rgb": encode(PIXELS),
    "png-palette-alpha": saved(Image.fromarray(PIXELS).convert("P"), "PNG", transparency=3),
    "bmp": encode(PIXELS, "BMP"),
    "webp-lossy": encode(PIXELS, "WEBP"),
    "webp-lossless": saved(Image.fromarray(PIXELS), "WEBP", lossless=True),
}
MUTATIONS_PER_SEED = 34  # 7 seed files: 238 mutated photos


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One seeded damage: truncation, flipped bytes (often in the header), a blanked run, or a
    duplicated slice."""
    data = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:
        return bytes(data[: rng.randrange(len(data))])
    if kind in (1, 2):
        span = min(len(data), 600) if kind == 1 else len(data)  # headers are where parsers trip
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(span)] = rng.randrange(256)
        return bytes(data)
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.randint(1, 256))
    if kind == 3:
        data[start:end] = bytes([rng.choice((0x00, 0xFF))]) * (end - start)
        return bytes(data)
    return bytes(data[:end] + data[start:])


def _cases() -> dict[str, list[tuple[str, bytes, bytes, str]]]:
    """Group -> (case id, photo bytes, mask bytes, output name)."""
    groups: dict[str, list] = {}
    for name, data in SEEDS.items():
        rng = random.Random(name)
        groups[name] = [
            (f"{name}-{i}", mutate(data, rng), MASK, rng.choice(("out.png", "out.jpg")))
            for i in range(MUTATIONS_PER_SEED)
        ]
    rng = random.Random("masks")
    groups["masks"] = [(f"mask-{i}", SEEDS["png-rgb"], mutate(MASK, rng), "out.png") for i in range(20)]
    groups["hostile"] = [(name, data, MASK, "out.jpg") for name, data in hostile_files().items()]
    return groups


CASES = _cases()


def _check(case: tuple[str, bytes, bytes, str], folder) -> str | None:
    """What went wrong with one run, or None."""
    name, photo, mask, output = case
    work = folder / name
    work.mkdir()
    (work / "photo.bin").write_bytes(photo)
    (work / "mask.bin").write_bytes(mask)
    run = run_limited("erase", "photo.bin", "mask.bin", "-o", output, cwd=work, timeout=SECONDS)
    if run.returncode is None:
        return f"{name}: still running after {SECONDS} s"
    if run.peak_mb > PEAK_MB:
        return f"{name}: peak memory {run.peak_mb:.0f} MB"
    if "Traceback" in run.stderr:
        return f"{name}: traceback\n{run.stderr}"
    if run.returncode == 0:
        try:
            with Image.open(io.BytesIO((work / output).read_bytes())) as image:
                image.load()
        except Exception as exc:  # any failure to read it back is the finding
            return f"{name}: exit 0 but the output does not open ({exc})"
        return None
    lines = run.stderr.strip().splitlines()
    if run.returncode != 2 or len(lines) != 1 or not lines[0].startswith("error: "):
        return f"{name}: exit {run.returncode} with stderr {run.stderr!r}"
    return None


@pytest.mark.parametrize("group", list(CASES))
def test_fuzzed_inputs_exit_cleanly_in_time_and_memory(group, tmp_path):
    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = [p for p in pool.map(lambda c: _check(c, tmp_path), CASES[group]) if p]
    assert not problems, "\n".join(problems)


def test_the_suite_mutates_for_real():
    # A few hundred cases, nearly all of them different from the file they started from.
    photos = [photo for cases in CASES.values() for _, photo, _, _ in cases]
    assert len(photos) >= 250
    assert sum(photo not in SEEDS.values() for photo in photos) > 0.9 * len(photos)
