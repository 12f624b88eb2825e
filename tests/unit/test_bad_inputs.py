"""A corpus of bad inputs: each gets its error type and a message that names what was wrong,
from the library and from the CLI (exit 2, one `error:` line, no traceback)."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from eraser import EngineError, ImageError, MaskError, Photo, erase, load_mask
from eraser.images import MAX_FILE_BYTES
from tests.support.photos import encode, scene
from tests.unit.cli import run_cli

GOOD = scene(64, 48)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(bytes(1024))
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _bomb_png() -> bytes:
    """A real 1-bit PNG of 8000 x 6000 px (48 MP) that packs into a few kilobytes."""
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")
    return out.getvalue()


def _bad_crc_png() -> bytes:
    data = bytearray(encode(GOOD, "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    return bytes(data)


def _other_format(fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(GOOD).save(out, fmt, **options)
    return out.getvalue()


JPEG = encode(GOOD, "JPEG")
WEBP = encode(GOOD, "WEBP")

# (case id, bytes, words the message must contain)
PHOTO_CORPUS = [
    ("zero-byte", b"", "empty (0 bytes)"),
    ("gif", _other_format("GIF"), "GIF image"),
    ("tiff", _other_format("TIFF"), "TIFF image"),
    ("pdf-named-png", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "PDF document"),
    ("svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG drawing"),
    ("text", b"name,age\nada,36\n", "text file"),
    ("zip", b"PK\x03\x04" + bytes(40), "ZIP archive"),
    ("ico", _other_format("ICO"), "icon (ICO)"),
    ("heic", b"\x00\x00\x00\x18ftypheic" + bytes(64), "HEIC/AVIF"),
    ("random-binary", bytes(range(256)) * 4, "not an image this app can read"),
    ("truncated-jpeg", JPEG[: len(JPEG) // 2], "damaged or incomplete"),
    ("truncated-png", encode(GOOD, "PNG")[:-40], "damaged or incomplete"),
    ("truncated-webp", WEBP[: len(WEBP) // 2], "damaged or incomplete"),
    ("png-bad-crc", _bad_crc_png(), "damaged or incomplete"),
    ("bomb-header", _png_claiming(100_000, 100_000), "too large"),
    ("bomb-48mp", _bomb_png(), "too large"),
    ("over-byte-cap", b"\xff\xd8" + bytes(MAX_FILE_BYTES), "the limit is 50 MB"),
]


@pytest.mark.parametrize("data, words", [c[1:] for c in PHOTO_CORPUS], ids=[c[0] for c in PHOTO_CORPUS])
def test_library_refuses_bad_photo(data, words):
    with pytest.raises(ImageError) as caught:
        Photo.open(data, name="photo.png")
    message = str(caught.value)
    assert words in message
    assert "JPEG, PNG, BMP or WEBP" in message or "again" in message  # says what to do


@pytest.mark.parametrize(
    "data, words",
    [c[1:] for c in PHOTO_CORPUS if c[0] != "over-byte-cap"],
    ids=[c[0] for c in PHOTO_CORPUS if c[0] != "over-byte-cap"],
)
@pytest.mark.slow
def test_cli_refuses_bad_photo(tmp_path, data, words):
    (tmp_path / "photo.png").write_bytes(data)
    (tmp_path / "mask.png").write_bytes(encode(np.full((48, 64), 255, np.uint8)))
    done = run_cli("erase", "photo.png", "mask.png", "-o", "out.png", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0]
    assert "Traceback" not in done.stderr and not (tmp_path / "out.png").exists()


def _mask(pixels):
    return encode(np.asarray(pixels, np.uint8))


MASK_CORPUS = [
    ("empty-mask", _mask(np.zeros((48, 64))), MaskError, "nothing to erase"),
    ("other-shape", _mask(np.full((64, 64), 255)), MaskError, "Use a mask of the same size"),
    ("zero-byte-mask", b"", MaskError, "mask file is empty"),
    ("text-mask", b"not a mask", MaskError, "mask is not a JPEG"),
    ("truncated-mask", _mask(np.full((48, 64), 255))[:-30], MaskError, "damaged or incomplete"),
]


@pytest.mark.parametrize("data, error, words", [c[1:] for c in MASK_CORPUS], ids=[c[0] for c in MASK_CORPUS])
def test_library_refuses_bad_mask(data, error, words):
    photo = Photo.open(encode(GOOD))
    with pytest.raises(error, match=words):
        erase(photo, load_mask(data, photo.size))


@pytest.mark.parametrize("data, error, words", [c[1:] for c in MASK_CORPUS], ids=[c[0] for c in MASK_CORPUS])
@pytest.mark.slow
def test_cli_refuses_bad_mask(tmp_path, data, error, words):
    (tmp_path / "photo.png").write_bytes(encode(GOOD))
    (tmp_path / "mask.png").write_bytes(data)
    done = run_cli("erase", "photo.png", "mask.png", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error:") and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unknown_engine_and_bad_grow_are_refused():
    photo = Photo.open(encode(GOOD))
    mask = np.zeros((48, 64), bool)
    mask[10:20, 10:20] = True
    with pytest.raises(EngineError, match="Choose one of: auto, migan, lama, patchmatch, telea"):
        erase(photo, mask, engine="magic")
    with pytest.raises(MaskError, match="between 0 and 100"):
        erase(photo, mask, grow=-1)
    with pytest.raises(MaskError, match=r"does not match the photo \(64x48\)"):
        erase(photo, mask[:, :10])


@pytest.mark.parametrize(
    "args, words",
    [
        (["erase", "missing.jpg", "mask.png"], "Cannot read the image 'missing.jpg'"),
        (["erase", "photo.png", "missing.png"], "Cannot read the mask 'missing.png'"),
        (["erase", "photo.png", "mask.png", "-o", "out.gif"], "choose a name ending in .jpg"),
        (["erase", "photo.png", "mask.png", "--engine", "magic"], "invalid choice: 'magic'"),
        (["erase", "photo.png", "mask.png", "--grow", "lots"], "invalid int value: 'lots'"),
        (["erase", "photo.png", "mask.png", "-o", "no/such/dir/out.png"], "Cannot write"),
        (["paint"], "invalid choice: 'paint'"),
    ],
)
@pytest.mark.slow
def test_cli_usage_errors_are_one_line(tmp_path, args, words):
    (tmp_path / "photo.png").write_bytes(encode(GOOD))
    mask = np.zeros((48, 64), np.uint8)
    mask[10:20, 10:20] = 255
    (tmp_path / "mask.png").write_bytes(encode(mask))
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error:") and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
