"""Decoding has a budget and odd metadata never ends in a traceback: scan bombs, decodes that
run too long, palettes Pillow refuses, EXIF too long for a JPEG, and Pillow's own warnings."""

import io
import time

import numpy as np
import pytest
from PIL import Image

from eraser import ImageError, Photo, erase, images, jpeg_markers, load_mask
from eraser.images import MAX_JPEG_EXIF
from tests.support.hostile import big_exif, hostile_files, noisy_exif, palette_png, saved, scan_bomb
from tests.support.photos import blob, encode, scene
from tests.unit.limits import run_limited

HOSTILE = hostile_files()


@pytest.mark.filterwarnings("ignore::UserWarning")  # this test's own Image.open of odd EXIF
@pytest.mark.parametrize("name", list(HOSTILE))
def test_library_opens_or_refuses_each_hostile_file(name):
    try:
        photo = Photo.open(HOSTILE[name])
    except ImageError as refused:
        assert "again" in str(refused)  # says what to do
        return
    width, height = photo.size
    for fmt in (photo.format, "JPEG", "PNG"):
        saved_size = Image.open(io.BytesIO(photo.encode(fmt))).size
        assert saved_size == (width, height)


def test_scan_bomb_is_refused_from_its_markers_before_decoding():
    start = time.monotonic()
    with pytest.raises(ImageError, match="20,006 scans"):
        Photo.open(HOSTILE["scan-bomb-4095"])
    assert time.monotonic() - start < 2


def test_a_decode_past_its_time_limit_is_stopped(monkeypatch):
    bomb = scan_bomb(1024, 2000)  # about 3 s to decode on this machine when let run
    monkeypatch.setattr(jpeg_markers, "MAX_SCANS", 10**6)
    monkeypatch.setattr(images, "DECODE_SECONDS", 0.3)
    start = time.monotonic()
    with pytest.raises(ImageError, match="took more than 0 s to decode, so it was stopped"):
        Photo.open(bomb)
    assert time.monotonic() - start < 2


def test_palette_transparency_longer_than_the_palette_is_looked_up():
    photo = Photo.open(palette_png(256, 300))
    indices = np.asarray(Image.open(io.BytesIO(palette_png(256, 300))))
    assert np.array_equal(photo.alpha, (255 - indices).astype(np.uint8))  # the first 256 entries
    assert np.array_equal(photo.pixels[..., 0], ((indices.astype(int) * 3 * 37) % 256).astype(np.uint8))


def test_palette_indices_past_the_palette_are_black():
    photo = Photo.open(palette_png(2, 2))
    indices = np.asarray(Image.open(io.BytesIO(palette_png(2, 2))))
    assert (photo.pixels[indices >= 2] == 0).all() and (photo.alpha[indices >= 2] == 255).all()


def test_exif_too_long_for_a_jpeg_loses_its_largest_entries_not_the_save():
    photo = Photo.open(saved(Image.fromarray(scene(64, 48)), "PNG", exif=big_exif(200_000, orientation=6)))
    assert photo.size == (48, 64)  # turned upright on opening
    out = Image.open(io.BytesIO(photo.encode("JPEG")))
    assert len(out.info["exif"]) <= MAX_JPEG_EXIF
    exif = out.getexif()
    assert exif[0x010F] == "Camera Maker" and 0x0112 not in exif and out.size == (48, 64)


def test_a_64k_exif_survives_jpeg_to_jpeg_unchanged():
    original = saved(Image.fromarray(scene(64, 48)), "JPEG", exif=big_exif(64_000))
    result = erase(Photo.open(original), blob(64, 48, (30, 20), 10), engine="telea").encode()
    assert Image.open(io.BytesIO(result)).info["exif"] == Image.open(io.BytesIO(original)).info["exif"]


@pytest.mark.slow
def test_pillow_warnings_do_not_reach_the_terminal(tmp_path, recwarn):
    (tmp_path / "photo.jpg").write_bytes(saved(Image.fromarray(scene(64, 48)), "JPEG", exif=noisy_exif()))
    (tmp_path / "mask.png").write_bytes(encode(blob(64, 48, (30, 20), 10).astype(np.uint8) * 255))
    run = run_limited("erase", "photo.jpg", "mask.png", "-o", "out.jpg", "--engine", "patchmatch", cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == ""
    Photo.open((tmp_path / "photo.jpg").read_bytes()).encode("PNG")
    assert len(recwarn) == 0


def test_a_palette_mask_with_a_long_transparency_table_is_read():
    mask = load_mask(palette_png(256, 300), (32, 16))
    indices = np.asarray(Image.open(io.BytesIO(palette_png(256, 300))))
    assert np.array_equal(mask, (255 - indices.astype(int)) % 256 > 0)


def _warned_jpeg() -> bytes:
    """A JPEG with stray bytes before its EOI: libjpeg decodes it whole and warns ("Corrupt JPEG
    data: 59 extraneous bytes before marker 0xd9") with fprintf(stderr), once per read."""
    data = saved(Image.fromarray(scene(64, 48)), "JPEG", quality=90)
    return data[:-2] + bytes(range(1, 65)) + data[-2:]


def test_libjpeg_warnings_do_not_reach_stderr_from_the_library(capfd):
    photo = Photo.open(_warned_jpeg())
    result = erase(photo, blob(64, 48, (30, 20), 10), engine="telea")
    out = Photo.open(result.encode())
    assert capfd.readouterr().err == ""
    assert np.array_equal(out.pixels[:, 49:], photo.pixels[:, 49:])  # MCUs away from the fill kept


def test_libjpeg_warnings_do_not_reach_the_terminal(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(_warned_jpeg())
    (tmp_path / "mask.png").write_bytes(encode(blob(64, 48, (30, 20), 10).astype(np.uint8) * 255))
    run = run_limited("erase", "photo.jpg", "mask.png", "-o", "out.jpg", "--engine", "telea", cwd=tmp_path)
    assert run.returncode == 0 and run.stderr == ""
    # With a refusal after the save was made, our one message is all there is.
    run = run_limited("erase", "photo.jpg", "mask.png", "-o", "gone/out.jpg", "--engine", "telea", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr == "error: Cannot write 'gone/out.jpg': No such file or directory.\n"
