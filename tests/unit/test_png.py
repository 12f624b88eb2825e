"""The PNG writer: files any reader takes, pixel for pixel, whether compressed in one part or
in several side by side, with and without alpha."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from eraser import png
from tests.support.photos import scene


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, each CRC checked."""
    assert data.startswith(png.SIGNATURE)
    found, at = [], len(png.SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        found.append((kind, body))
        at += 12 + length
    return found


@pytest.mark.parametrize("parts", [1, 2, 5])
@pytest.mark.parametrize("with_alpha", [False, True])
def test_every_reader_gets_the_pixels_back(monkeypatch, parts, with_alpha):
    pixels = scene(301, 203, seed=parts)  # odd sizes: the cuts fall inside rows and pixels
    alpha = np.random.default_rng(1).integers(0, 256, (203, 301), np.uint8) if with_alpha else None
    rows = 203 * (1 + 301 * (4 if with_alpha else 3))
    monkeypatch.setattr(png.os, "cpu_count", lambda: parts)
    monkeypatch.setattr(png, "PART_BYTES", rows // parts)
    data = png.encode(pixels, alpha, [(b"tEXt", b"Comment\0kept")])

    kinds = [kind for kind, _ in _chunks(data)]
    assert kinds == [b"IHDR", b"tEXt", b"IDAT", b"IEND"]
    idat = dict(_chunks(data))[b"IDAT"]
    assert len(zlib.decompress(idat)) == rows  # one stream, its checksum right, across the cuts
    expected = pixels if alpha is None else np.dstack([pixels, alpha])
    image = Image.open(io.BytesIO(data))
    assert image.mode == ("RGBA" if with_alpha else "RGB") and image.info["Comment"] == "kept"
    assert np.array_equal(np.asarray(image), expected)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA if with_alpha else cv2.COLOR_BGR2RGB), expected)


def test_a_large_picture_is_compressed_in_parts_side_by_side(monkeypatch):
    monkeypatch.setattr(png.os, "cpu_count", lambda: 2)
    pixels = scene(2000, 1500)  # 9 MB of rows: two parts
    streams = []
    real = png.zlib.compressobj
    monkeypatch.setattr(png.zlib, "compressobj", lambda *args: streams.append(args) or real(*args))
    data = png.encode(pixels)
    assert sorted(map(len, streams)) == [5, 6]  # two parts, the second primed with the bytes before its cut
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), pixels)
