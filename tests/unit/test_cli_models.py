"""The CLI's learned-model side: listing, pulling without network, and --model-file."""

import numpy as np
import pytest
from PIL import Image

from eraser.masks import grow
from tests.support.onnx_models import migan_like
from tests.support.photos import blob, encode, scene
from tests.unit.cli import run_cli
from tests.unit.test_learned import flat_and_gradient

# Each test runs `python -m eraser` in a process of its own: the slow tier.
pytestmark = pytest.mark.slow


def test_models_lists_each_model_with_size_licence_and_state(tmp_path):
    done = run_cli("models", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "(downloads off)" in lines[0]
    assert lines[1].split()[:6] == ["migan", "MI-GAN", "28.1", "MB", "MIT", "not"]
    assert lines[2].split()[:6] == ["lama", "LaMa", "208.0", "MB", "Apache-2.0", "not"]


def test_pull_offline_and_bad_names_are_one_error_line(tmp_path):
    for args in (("models", "pull", "lama"), ("models", "pull"), ("models", "pull", "gpt")):
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert "Downloads are off" in run_cli("models", "pull", "lama", cwd=tmp_path).stderr


def photo_and_mask(tmp_path):
    pixels = scene(320, 240)
    mask = blob(320, 240, (160, 160), 60)
    (tmp_path / "street.png").write_bytes(encode(pixels))
    (tmp_path / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))
    return pixels, mask


def test_erase_with_a_model_file_says_its_checksum_is_not_checked(tmp_path):
    pixels, mask = photo_and_mask(tmp_path)
    migan_like(tmp_path / "mine.onnx")
    done = run_cli("erase", "street.png", "mask.png", "-o", "out.png", "--engine", "migan",
                   "--model-file", "mine.onnx", "--grow", "0", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "checksum is not checked" in done.stderr
    out = np.asarray(Image.open(tmp_path / "out.png"))
    assert np.array_equal(out[~mask], pixels[~mask]) and not np.array_equal(out[mask], pixels[mask])


def test_a_migan_fill_on_flat_grey_and_a_gradient_has_no_rim(tmp_path):
    migan_like(tmp_path / "mine.onnx")  # blends its fill with its input, as the real pipeline does
    dark = blob(480, 360, (240, 180), 90)
    (tmp_path / "mask.png").write_bytes(encode(dark.astype(np.uint8) * 255))
    hole = grow(dark, 6)
    for name, truth in flat_and_gradient().items():
        pixels = truth.copy()
        pixels[dark] = (40, 30, 20)
        (tmp_path / "photo.png").write_bytes(encode(pixels))
        done = run_cli("erase", "photo.png", "mask.png", "-o", "out.png", "--engine", "migan",
                       "--model-file", "mine.onnx", "--grow", "6", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        out = np.asarray(Image.open(tmp_path / "out.png")).astype(int)
        assert np.abs(out[hole] - truth[hole]).max() <= 4, name  # the 3 px inside the edge too
        assert np.array_equal(out[~hole], truth[~hole]), name


def test_a_model_that_fails_its_self_check_is_exit_2_and_one_error_line(tmp_path):
    photo_and_mask(tmp_path)
    migan_like(tmp_path / "inverted.onnx", invert=True)
    done = run_cli("erase", "street.png", "mask.png", "--engine", "migan", "--model-file", "inverted.onnx",
                   cwd=tmp_path)
    assert done.returncode == 2 and not (tmp_path / "street_erased.png").exists()
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "failed its self-check" in errors[0] and "Traceback" not in done.stderr


def test_auto_without_a_model_says_once_that_patchmatch_fills(tmp_path):
    photo_and_mask(tmp_path)
    done = run_cli("erase", "street.png", "mask.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Objects are filled with PatchMatch instead.") == 1


def test_auto_says_nothing_of_patchmatch_when_only_thin_strokes_were_erased(tmp_path):
    (tmp_path / "street.png").write_bytes(encode(scene(320, 240)))
    line = np.zeros((240, 320), np.uint8)
    line[100:102, 40:280] = 255
    (tmp_path / "mask.png").write_bytes(encode(line))
    done = run_cli("erase", "street.png", "mask.png", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
