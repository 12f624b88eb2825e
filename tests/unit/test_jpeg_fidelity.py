"""JPEG in, JPEG out without generation loss: after an erase and ten "Keep erasing" steps, each
through Photo.open(bytes) -> erase -> encode() as the page does, every MCU the fills did not
touch keeps its DCT coefficients, its decoded pixels, tables, sampling, EXIF and ICC."""

import io
import struct

import cv2
import jpeglib
import numpy as np
import pytest
from PIL import Image, ImageCms

from eraser import Photo, erase
from eraser.jpeg_markers import count_scans, standard_tables
from tests.support.hostile import saved
from tests.support.photos import blob, scene

WIDTH, HEIGHT = 501, 371  # not whole MCUs, so the right and bottom edges are partial
SUBSAMPLING = {"4:4:4": (0, (8, 8)), "4:2:2": (1, (16, 8)), "4:2:0": (2, (16, 16))}
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0132] = "Camera Maker", "Model 7", "2026:11:25 10:00:00"
    exif[0x0112] = orientation
    return exif.tobytes()


def _jpeg(subsampling: int, progressive: bool, orientation: int = 1) -> bytes:
    out = io.BytesIO()
    Image.fromarray(scene(WIDTH, HEIGHT, seed=3)).save(
        out, "JPEG", quality=88, subsampling=subsampling, progressive=progressive, optimize=True,
        exif=_exif(orientation), icc_profile=ICC,
    )
    return out.getvalue()


def _stored(data: bytes) -> np.ndarray:
    """Decoded pixels as stored in the file (no orientation applied)."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _coefficients(data: bytes, tmp_path) -> list[np.ndarray]:
    path = tmp_path / "c.jpg"
    path.write_bytes(data)
    dct = jpeglib.read_dct(str(path))
    return [dct.Y, dct.Cb, dct.Cr]


def _touched_mcus(changed: np.ndarray, mcu: tuple[int, int]) -> np.ndarray:
    """MCU grid cells (mcu = (w, h) px) holding any changed pixel; changed is in stored layout."""
    w, h = mcu
    grid = np.zeros((-(-changed.shape[0] // h), -(-changed.shape[1] // w)), bool)
    ys, xs = np.nonzero(changed)
    grid[ys // h, xs // w] = True
    return grid


def _keep_erasing(data: bytes, orientation_undo, steps: int = 11):
    """The page's loop: open the bytes, erase somewhere new, encode; what changed, in file layout."""
    changed = np.zeros(_stored(data).shape[:2], bool)
    for step in range(steps):
        photo = Photo.open(data)
        width, height = photo.size
        centre = (30 + (step * 97) % (width - 60), 30 + (step * 53) % (height - 60))
        result = erase(photo, blob(width, height, centre, 24 + 2 * step), engine="auto", grow=3)
        changed |= orientation_undo(np.any(result.pixels != photo.pixels, axis=2))
        data = result.encode()
    return data, changed


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("sampling", list(SUBSAMPLING))
@pytest.mark.slow
def test_ten_keep_erasing_steps_leave_untouched_blocks_bit_identical(sampling, progressive, tmp_path):
    subsampling, mcu = SUBSAMPLING[sampling]
    original = _jpeg(subsampling, progressive)
    result, changed = _keep_erasing(original, lambda a: a)

    touched = _touched_mcus(changed, mcu)
    assert 0.02 < touched.mean() < 0.5  # the fills did change something, not everything
    # Coefficients: every untouched MCU's blocks are the original's, component by component.
    for before, after, (fh, fv) in zip(
        _coefficients(original, tmp_path),
        _coefficients(result, tmp_path),
        [(mcu[0] // 8, mcu[1] // 8), (1, 1), (1, 1)],
        strict=True,
    ):
        assert before.shape == after.shape
        blocks = np.repeat(np.repeat(touched, fv, 0), fh, 1)[: before.shape[0], : before.shape[1]]
        assert np.array_equal(before[~blocks], after[~blocks])
        assert not np.array_equal(before[blocks], after[blocks])
    # Decoded pixels: identical outside the touched MCUs. With subsampled chroma the decoder
    # smooths chroma across MCU edges, so the one-pixel ring next to a touched MCU may differ.
    area = np.repeat(np.repeat(touched, mcu[1], 0), mcu[0], 1)[:HEIGHT, :WIDTH].astype(np.uint8)
    if subsampling:
        area = cv2.dilate(area, np.ones((3, 3), np.uint8))
    same = ~area.astype(bool)
    assert np.array_equal(_stored(result)[same], _stored(original)[same])

    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(result))
    assert after.size == before.size and after.mode == before.mode
    assert after.quantization == before.quantization
    assert [(h, v) for _, h, v, _ in after.layer] == [(h, v) for _, h, v, _ in before.layer]
    assert after.info["icc_profile"] == ICC and after.info["exif"] == before.info["exif"]
    # jpeglib writes baseline only, so a progressive photo comes back baseline (optimised).
    assert after.info.get("progressive", 0) == 0
    assert abs(len(result) / len(original) - 1) < 0.05


@pytest.mark.parametrize("orientation", [3, 6, 8])
@pytest.mark.slow
def test_rotated_photo_keeps_its_stored_layout_and_tag(orientation, tmp_path):
    original = _jpeg(2, False, orientation)
    undo = {3: lambda a: a[::-1, ::-1], 6: lambda a: np.rot90(a, 1), 8: lambda a: np.rot90(a, -1)}[orientation]
    result, changed = _keep_erasing(original, undo, steps=3)
    touched = np.repeat(np.repeat(_touched_mcus(changed, (16, 16)), 16, 0), 16, 1)[:HEIGHT, :WIDTH]
    same = ~cv2.dilate(touched.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    assert np.array_equal(_stored(result)[same], _stored(original)[same])
    assert Image.open(io.BytesIO(result)).getexif()[0x0112] == orientation
    # Opened again, it is upright and the erased pixels are where the person painted them.
    assert Photo.open(result).size == Photo.open(original).size


def test_saving_an_unchanged_jpeg_gives_back_the_same_bytes():
    original = _jpeg(2, True)
    assert Photo.open(original).encode() == original


@pytest.mark.slow
def test_grayscale_jpeg_keeps_its_blocks(tmp_path):
    out = io.BytesIO()
    Image.fromarray(scene(WIDTH, HEIGHT)).convert("L").save(out, "JPEG", quality=85)
    original = out.getvalue()
    result, changed = _keep_erasing(original, lambda a: a, steps=3)
    touched = np.repeat(np.repeat(_touched_mcus(changed, (8, 8)), 8, 0), 8, 1)[:HEIGHT, :WIDTH]
    after = Image.open(io.BytesIO(result))
    assert after.mode == "L"
    assert np.array_equal(np.asarray(after)[~touched], np.asarray(Image.open(io.BytesIO(original)))[~touched])


def test_png_saved_as_jpeg_keeps_full_colour_resolution():
    out = io.BytesIO()
    Image.fromarray(scene(64, 48)).save(out, "PNG")
    saved = Image.open(io.BytesIO(Photo.open(out.getvalue()).encode("JPEG")))
    assert [(h, v) for _, h, v, _ in saved.layer] == [(1, 1)] * 3


def test_cmyk_jpeg_is_saved_as_an_ordinary_rgb_jpeg():
    out = io.BytesIO()
    Image.fromarray(scene(64, 48)).convert("CMYK").save(out, "JPEG")
    photo = Photo.open(out.getvalue())
    result = erase(photo, blob(64, 48, (32, 24), 10), engine="telea")
    saved = Image.open(io.BytesIO(result.encode()))
    assert saved.mode == "RGB" and saved.size == (64, 48)


def test_scans_are_counted_from_markers_not_from_metadata():
    out = io.BytesIO()
    # A comment (like an EXIF thumbnail) may hold scan markers of its own: they do not count.
    Image.fromarray(scene(64, 48)).save(out, "JPEG", comment=b"\xff\xda" * 300)
    assert count_scans(out.getvalue()) == 1
    assert 2 < count_scans(_jpeg(2, True)) < 20


@pytest.mark.parametrize("optimize", [False, True], ids=["standard-tables", "optimised-tables"])
def test_huffman_tables_follow_the_photo(optimize):
    out = io.BytesIO()
    Image.fromarray(scene(WIDTH, HEIGHT, seed=3)).save(out, "JPEG", quality=88, optimize=optimize)
    original = out.getvalue()
    result, _ = _keep_erasing(original, lambda a: a, steps=2)
    assert standard_tables(result) == (not optimize)
    assert abs(len(result) / len(original) - 1) < 0.05


def test_each_save_stands_alone():
    # The coefficients read during an erase are changed in place by its save: saving again, or
    # saving another photo made from the same result, must not see those changes.
    photo = Photo.open(_jpeg(2, False))
    result = erase(photo, blob(WIDTH, HEIGHT, (100, 100), 30), engine="telea")
    first = result.encode()
    other = result.replace(np.where(blob(WIDTH, HEIGHT, (400, 300), 30)[..., None], 0, result.pixels).astype(np.uint8))
    other_bytes = other.encode()
    assert result.encode() == first
    assert np.array_equal(Photo.open(first).pixels[250:350, 350:450], photo.pixels[250:350, 350:450])
    assert not np.array_equal(Photo.open(other_bytes).pixels[290:310, 390:410], photo.pixels[290:310, 390:410])


def _exif_with_thumbnail(thumbnail: bytes) -> bytes:
    """EXIF (little-endian TIFF) with a Make in IFD0 and a JPEG thumbnail in IFD1, by hand:
    Pillow does not write thumbnails."""
    make = b"Camera Maker\x00"
    ifd0 = 8
    make_at = ifd0 + 2 + 12 + 4
    ifd1 = make_at + len(make)
    thumb_at = ifd1 + 2 + 2 * 12 + 4
    tiff = (b"II*\x00" + struct.pack("<I", ifd0)
            + struct.pack("<H", 1) + struct.pack("<HHII", 0x010F, 2, len(make), make_at) + struct.pack("<I", ifd1)
            + make
            + struct.pack("<H", 2) + struct.pack("<HHII", 0x0201, 4, 1, thumb_at)
            + struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail)) + struct.pack("<I", 0)
            + thumbnail)
    return b"Exif\x00\x00" + tiff


def test_the_exif_thumbnail_of_the_unerased_photo_is_not_kept():
    thumbnail = saved(Image.new("RGB", (16, 12), "red"), "JPEG")
    out = io.BytesIO()
    Image.fromarray(scene(WIDTH, HEIGHT)).save(out, "JPEG", exif=_exif_with_thumbnail(thumbnail))
    original = out.getvalue()
    assert thumbnail in original
    result = erase(Photo.open(original), blob(WIDTH, HEIGHT, (200, 200), 30), engine="telea").encode()
    assert thumbnail not in result
    assert Image.open(io.BytesIO(result)).getexif()[0x010F] == "Camera Maker"
