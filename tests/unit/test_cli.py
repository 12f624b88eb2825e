"""The CLI on good input: writes the erased photo, lists engines."""

import io

import numpy as np
import pytest
from PIL import Image

from tests.support.photos import blob, encode, scene
from tests.unit.cli import run_cli

# Each test runs `python -m eraser` in a process of its own: the slow tier.
pytestmark = pytest.mark.slow


def test_engines_lists_one_per_line(tmp_path):
    done = run_cli("engines", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.split() == ["auto", "migan", "lama", "patchmatch", "telea"]


def test_erase_writes_the_output(tmp_path):
    pixels = scene(320, 240)
    mask = blob(320, 240, (160, 160), 40)
    (tmp_path / "street.png").write_bytes(encode(pixels))
    (tmp_path / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))
    done = run_cli("erase", "street.png", "mask.png", "-o", "clean.png", "--engine", "telea", "--grow", "0",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = np.asarray(Image.open(tmp_path / "clean.png"))
    assert out.shape == pixels.shape and np.array_equal(out[~mask], pixels[~mask])
    assert not np.array_equal(out[mask], pixels[mask])


def test_erase_names_the_output_after_the_photo_and_converts_by_name(tmp_path):
    pixels = scene(160, 120)
    (tmp_path / "cat.png").write_bytes(encode(pixels))
    (tmp_path / "m.png").write_bytes(encode(blob(160, 120, (80, 60), 20).astype(np.uint8) * 255))
    assert run_cli("erase", "cat.png", "m.png", cwd=tmp_path).returncode == 0
    assert Image.open(tmp_path / "cat_erased.png").size == (160, 120)
    assert run_cli("erase", "cat.png", "m.png", "-o", "cat.jpg", cwd=tmp_path).returncode == 0
    assert Image.open(io.BytesIO((tmp_path / "cat.jpg").read_bytes())).format == "JPEG"
