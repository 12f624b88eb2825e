"""Legal JPEGs laid out unlike Pillow's own, erased through the library (Photo.open -> erase ->
encode) and compared with the input's decode away from the mask: quantisation tables redefined
between scans, EXIF and ICC after the tables, arithmetic coding; and the check that stops a
block-by-block save that does not decode like the original from being shipped."""

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from eraser import ImageError, Photo, erase, images, jpeg
from tests.support.hostile import cjpeg, metadata_after_tables, tables_redefined_after_first_scan
from tests.support.photos import blob, scene

WIDTH, HEIGHT = 501, 371
CENTRE, DIAMETER = (120, 110), 40
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
# A re-encode with the photo's own tables and 4:2:0 sampling moves chroma a little (the
# decoder's smoothing, then averaging again): mean |difference| summed over the channels.
REENCODE_MEAN = 3.0
# Where kept blocks must decode bit-identically: past the mask grown by erase (5 px), the rest
# of its 16 x 16 MCUs (up to 15 px) and the one-pixel ring chroma smoothing reaches.
NEAR = 5 + 15 + 1


def _decoded(data: bytes) -> np.ndarray:
    """Pixels as stored in the file (no orientation applied), the whole file handed over at once
    (so arithmetic-coded files decode too)."""
    image = Image.open(io.BytesIO(data))
    image.decodermaxblock = len(data)
    return np.asarray(image.convert("RGB")).astype(int)


def _away(margin: int, shape=(HEIGHT, WIDTH), centre=CENTRE) -> np.ndarray:
    """Pixels outside the square `margin` px beyond the mask (stored layout): touched MCUs
    make a blocky area around a round mask."""
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return np.maximum(abs(rows - centre[1]), abs(cols - centre[0])) > DIAMETER // 2 + margin


def _erased(data: bytes) -> bytes:
    photo = Photo.open(data)
    width, height = photo.size
    return erase(photo, blob(width, height, CENTRE, DIAMETER), engine="telea").encode()


def _exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "Camera Maker", orientation
    return exif.tobytes()


def _pillow_jpeg(**options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(scene(WIDTH, HEIGHT, seed=3)).save(out, "JPEG", quality=85, **options)
    return out.getvalue()


def _one_scan_per_component(tmp_path) -> bytes:
    """A baseline JPEG of three scans (Y, then Cb, then Cr), as cjpeg writes with a scan script."""
    script = tmp_path / "scans.txt"
    script.write_text("0;\n1;\n2;\n")
    return cjpeg(scene(WIDTH, HEIGHT, seed=3), "-quality", "85", "-scans", str(script))


@pytest.fixture(params=["baseline-3-scans", "progressive"])
def redefined(request, tmp_path) -> tuple[bytes, bytes]:
    """(original, the same with table 0 redefined after its first scan)."""
    baseline = request.param == "baseline-3-scans"
    original = _one_scan_per_component(tmp_path) if baseline else _pillow_jpeg(progressive=True)
    return original, tables_redefined_after_first_scan(original)


def test_tables_redefined_after_the_first_scan_come_back_whole_not_corrupted(redefined):
    original, hostile = redefined
    assert np.array_equal(_decoded(hostile), _decoded(original))  # legal, and decodes the same
    result = _erased(hostile)
    difference = np.abs(_decoded(result) - _decoded(hostile)).sum(axis=2)[_away(8)]
    assert difference.mean() < REENCODE_MEAN  # it was 144: every block written with table 0's redefinition
    # Compressed again whole with the tables the photo was decoded with, its sampling and kind.
    before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(result))
    assert after.quantization == before.quantization
    assert [(h, v) for _, h, v, _ in after.layer] == [(h, v) for _, h, v, _ in before.layer]
    assert after.info.get("progressive", 0) == before.info.get("progressive", 0)
    assert 0.9 < len(result) / len(original) < 1.15


def test_the_check_of_the_save_catches_what_the_markers_did_not_show(redefined, monkeypatch):
    # As if the markers had not given the redefined table away: the check of the saved file
    # sees another table than the one each component was decoded with, and compresses it whole.
    _, hostile = redefined
    monkeypatch.setattr(jpeg, "tables_fixed", lambda data: True)
    assert Photo.open(hostile).jpeg_source.keep_blocks
    difference = np.abs(_decoded(_erased(hostile)) - _decoded(hostile)).sum(axis=2)[_away(8)]
    assert difference.mean() < REENCODE_MEAN


def test_the_check_of_the_save_catches_a_misread_block(monkeypatch):
    # Any coefficient misread outside the fill, with the right tables: the 1/8-scale decode of
    # the saved file differs there, so the photo is compressed whole instead of shipped so.
    original = _pillow_jpeg(subsampling=2)
    read = jpeg._read_original

    def misread(data):
        found = read(data)
        found.coefficients.Y[45, 60, 0, 0] += 25  # the DC term of a block far from the fill
        return found

    monkeypatch.setattr(jpeg, "_read_original", misread)
    result = _erased(original)
    block = np.s_[360:368, 480:488]  # that block's pixels
    assert np.abs(_decoded(result) - _decoded(original))[block].sum(axis=2).mean() < 5
    with monkeypatch.context() as undo:
        undo.setattr(jpeg.Source, "_decodes_alike", lambda *args: True)
        shipped = _erased(original)
    assert np.abs(_decoded(shipped) - _decoded(original))[block].sum(axis=2).mean() > 30


@pytest.mark.parametrize("kind", ["blocks-kept", "compressed-whole"])
def test_exif_and_icc_after_the_tables_keep_orientation_and_colours(kind):
    original = metadata_after_tables(_pillow_jpeg(progressive=True, exif=_exif(6), icc_profile=ICC))
    if kind == "compressed-whole":
        original = tables_redefined_after_first_scan(original)
    photo = Photo.open(original)
    assert photo.size == (HEIGHT, WIDTH)  # upright: portrait
    assert photo.jpeg_source.keep_blocks == (kind == "blocks-kept")
    result = erase(photo, blob(HEIGHT, WIDTH, (200, 300), DIAMETER), engine="telea").encode()

    saved = Image.open(io.BytesIO(result))
    assert saved.getexif()[0x0112] == 6 and saved.getexif()[0x010F] == "Camera Maker"
    assert saved.info["icc_profile"] == ICC
    assert Photo.open(result).size == (HEIGHT, WIDTH)
    # In the stored layout (landscape), the mask at upright (200, 300) sits at (300, 170).
    difference = np.abs(_decoded(result) - _decoded(original)).sum(axis=2)[_away(NEAR, centre=(300, HEIGHT - 1 - 200))]
    if kind == "blocks-kept":
        assert difference.max() == 0
    else:
        assert difference.mean() < REENCODE_MEAN
    # Saved as another format, upright pixels carry the colour profile.
    png = Image.open(io.BytesIO(photo.encode("PNG")))
    assert png.size == (HEIGHT, WIDTH) and png.info["icc_profile"] == ICC


@pytest.mark.parametrize("progressive", [False, True], ids=["sequential", "progressive"])
def test_arithmetic_coded_jpeg_is_read_and_erased(progressive):
    width, height = 1200, 900
    extra = ["-progressive"] if progressive else []
    original = cjpeg(scene(width, height, seed=4), "-arithmetic", "-quality", "90", *extra)
    assert len(original) > 100_000  # far past the 8 KB (ours) and 64 KB (Pillow's) reads that broke it
    photo = Photo.open(original)
    assert np.array_equal(photo.pixels, _decoded(original))
    result = erase(photo, blob(width, height, CENTRE, DIAMETER), engine="telea").encode()
    saved = Image.open(io.BytesIO(result))
    assert b"\xff\xc4" in result and saved.quantization == Image.open(io.BytesIO(original)).quantization  # Huffman now
    # Blocks kept: identical outside the touched 16 x 16 MCUs and the ring chroma smoothing reaches.
    away = _away(NEAR, (height, width))
    assert np.array_equal(_decoded(result)[away], _decoded(original)[away])
    assert not np.array_equal(_decoded(result), _decoded(original))


def test_an_arithmetic_coded_decode_keeps_its_time_limit(monkeypatch):
    # libjpeg cannot pause inside an arithmetic-coded scan, so it is given a scan at a time and
    # the deadline is checked between scans: 80 extra scans are stopped, not waited for.
    original = cjpeg(scene(1024, 1024), "-arithmetic", "-progressive")
    last = original.rindex(b"\xff\xda")
    slow = original[:-2] + original[last:-2] * 80 + b"\xff\xd9"
    monkeypatch.setattr(images, "DECODE_SECONDS", 0.05)
    with pytest.raises(ImageError, match="took more than 0 s to decode, so it was stopped"):
        Photo.open(slow)
