"""The CLI's `select` and `erase --keep-out`, end to end in their own process."""

import numpy as np
import pytest
from PIL import Image

from tests.support.photos import encode, object_scene
from tests.unit.cli import run_cli
from tests.unit.test_keep_out import yellow_scene, yellowish
from tests.unit.test_select import box_around, iou, sloppy_stroke

pytestmark = pytest.mark.slow  # each test runs the command in its own process


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("select")
    pixels, outline = object_scene(640, 480)
    (folder / "photo.png").write_bytes(encode(pixels))
    (folder / "rough.png").write_bytes(encode(sloppy_stroke(outline, 12).astype(np.uint8) * 255))
    np.save(folder / "outline.npy", outline)
    return folder


def read_mask(path) -> np.ndarray:
    image = Image.open(path)
    assert image.mode == "L" and set(np.unique(np.asarray(image))) <= {0, 255}  # white on black
    return np.asarray(image) > 0


def test_select_a_box_writes_the_objects_mask(folder):
    outline = np.load(folder / "outline.npy")
    box = ",".join(map(str, box_around(outline, 20)))
    done = run_cli("select", "photo.png", "--box", box, "-o", "box.png", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "box.png"
    mask = read_mask(folder / "box.png")
    assert mask.shape == outline.shape and iou(mask, outline) >= 0.9


def test_select_from_a_rough_mask_writes_the_objects_mask_beside_the_photo(folder):
    done = run_cli("select", "photo.png", "--from", "rough.png", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert iou(read_mask(folder / "photo_mask.png"), np.load(folder / "outline.npy")) >= 0.9


@pytest.mark.parametrize(
    "args, words",
    [
        (["--box", "10,10,700,100"], "reaches outside the photo, which is 640x480"),
        (["--box=-10,10,100,100"], "reaches outside the photo"),
        (["--box", "100,100,100,200"], "is empty"),
        (["--box", "300,100,200,200"], "inside out"),
        (["--box", "1,2,three,4"], "is not four numbers"),
        (["--box", "40,20,600,140"], "No object stands out in the box"),
        ([], "Say what to select"),
        (["--box", "100,100,300,300", "-o", "mask.jpg"], "choose a name ending in .png"),
        (["--from", "rough.png", "--box", "10,10,60,60"], "rough mask lies outside the box"),
    ],
    ids=["out-of-bounds", "negative", "empty", "inverted", "not-numbers", "flat", "nothing-asked",
         "not-png", "rough-outside-box"],
)
def test_select_refuses_bad_input_in_one_line(folder, args, words):
    output = [] if "-o" in args else ["-o", "bad.png"]
    done = run_cli("select", "photo.png", *args, *output, cwd=folder)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert words in done.stderr
    assert not (folder / "bad.png").exists() and not (folder / "mask.jpg").exists()


def test_erase_keep_out_copies_nothing_from_the_kept_out_region(tmp_path):
    photo, hole, yellow = yellow_scene()
    (tmp_path / "photo.png").write_bytes(photo.encode("PNG"))
    (tmp_path / "mask.png").write_bytes(encode(hole.astype(np.uint8) * 255))
    (tmp_path / "keep.png").write_bytes(encode(yellow.astype(np.uint8) * 255))
    base = ("erase", "photo.png", "mask.png", "--engine", "patchmatch", "--grow", "0")
    free = run_cli(*base, "-o", "free.png", cwd=tmp_path)
    kept = run_cli(*base, "--keep-out", "keep.png", "-o", "kept.png", cwd=tmp_path)
    assert free.returncode == 0 and kept.returncode == 0, free.stderr + kept.stderr
    free, kept = (np.asarray(Image.open(tmp_path / name)) for name in ("free.png", "kept.png"))
    assert yellowish(free)[hole].any() and not yellowish(kept)[hole].any()
    assert np.array_equal(kept[~hole], photo.pixels[~hole])


def test_erase_refuses_a_keep_out_mask_of_another_size_in_one_line(tmp_path):
    photo, hole, _ = yellow_scene()
    (tmp_path / "photo.png").write_bytes(photo.encode("PNG"))
    (tmp_path / "mask.png").write_bytes(encode(hole.astype(np.uint8) * 255))
    (tmp_path / "keep.png").write_bytes(encode(np.zeros((100, 100), np.uint8)))
    done = run_cli("erase", "photo.png", "mask.png", "--keep-out", "keep.png", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: The keep-out mask is 100x100 pixels but the photo is 480x360.")
    assert not (tmp_path / "photo_erased.png").exists()
