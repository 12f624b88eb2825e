"""A mask that leaves (almost) nothing to fill from is refused with a sentence, not answered
with a black or unchanged photo; just enough left still erases."""

import numpy as np
import pytest

from eraser import MaskError, Photo, erase
from eraser.pipeline import MIN_LEFT
from tests.support.photos import encode, scene
from tests.unit.cli import run_cli

WIDTH, HEIGHT = 320, 240
PHOTO = Photo.open(encode(scene(WIDTH, HEIGHT)))


def _leaving_bottom(share: float) -> np.ndarray:
    mask = np.ones((HEIGHT, WIDTH), bool)
    mask[HEIGHT - round(share * HEIGHT) :] = False
    return mask


def _leaving_corner(side: int) -> np.ndarray:
    mask = np.ones((HEIGHT, WIDTH), bool)
    mask[:side, :side] = False
    return mask


@pytest.mark.parametrize("engine", ["auto", "patchmatch", "telea"])
@pytest.mark.parametrize(
    "mask",
    [np.ones((HEIGHT, WIDTH), bool), _leaving_bottom(0.05), _leaving_corner(12)],
    ids=["everything", "a thin band", "one small corner"],
)
def test_mask_leaving_too_little_is_refused(engine, mask):
    with pytest.raises(MaskError) as caught:
        erase(PHOTO, mask, engine=engine, grow=0)
    assert "leaves too little to fill from" in str(caught.value)
    assert "Paint less" in str(caught.value)


def test_growing_counts_the_mask_leaves_less():
    # 12% left, but growing by 20 px eats half of it.
    with pytest.raises(MaskError):
        erase(PHOTO, _leaving_bottom(0.12), engine="telea", grow=20)


@pytest.mark.parametrize("engine", ["patchmatch", "telea"])
@pytest.mark.slow
def test_just_enough_left_is_filled_without_black(engine):
    mask = _leaving_bottom(MIN_LEFT + 0.02)
    result = erase(PHOTO, mask, engine=engine, grow=0)
    filled = result.pixels[mask]
    assert (filled.max(axis=1) < 20).mean() < 0.01
    assert np.array_equal(result.pixels[~mask], PHOTO.pixels[~mask])


@pytest.mark.slow
def test_cli_refuses_with_one_line(tmp_path):
    (tmp_path / "photo.png").write_bytes(encode(scene(WIDTH, HEIGHT)))
    (tmp_path / "mask.png").write_bytes(encode(np.full((HEIGHT, WIDTH), 255, np.uint8)))
    done = run_cli("erase", "photo.png", "mask.png", "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 2 and not (tmp_path / "out.png").exists()
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: The mask leaves too little")
