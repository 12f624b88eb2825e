"""Hand-made hostile and odd files, shared by the unit tests and the CLI fuzz suite."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from tests.support.photos import scene


def saved(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def scan_bomb(size: int, scans: int) -> bytes:
    """A progressive JPEG whose last scan is repeated `scans` times: a few bytes per scan,
    and every scan costs the decoder a pass over the whole picture."""
    data = saved(Image.new("L", (size, size), 128), "JPEG", progressive=True)
    last = data.rindex(b"\xff\xda")
    return data[:-2] + data[last:-2] * scans + b"\xff\xd9"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def palette_png(colours: int, transparency: int, width: int = 32, height: int = 16) -> bytes:
    """An 8-bit palette PNG with `colours` entries and a transparency table of `transparency`
    entries (longer than the palette is what Pillow's convert refuses); pixels use indices
    past the palette's end too."""
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    palette = bytes((i * 37) % 256 for i in range(3 * colours))
    alpha = bytes((255 - i) % 256 for i in range(transparency))
    rows = b"".join(b"\x00" + bytes((x * 17 + y) % 256 for x in range(width)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"PLTE", palette)
            + png_chunk(b"tRNS", alpha) + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def png16(width: int = 40, height: int = 30) -> bytes:
    """A 48-bit RGB PNG (16 bits a channel), which Pillow opens as 8-bit RGB."""
    rng = np.random.default_rng(0)
    rows = b"".join(b"\x00" + rng.integers(0, 65535, width * 3, dtype=np.uint16).astype(">u2").tobytes()
                    for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows))
            + png_chunk(b"IEND", b""))


def big_exif(size: int, orientation: int = 1) -> bytes:
    """EXIF with a camera make, an orientation and a comment that makes it `size` bytes or so."""
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + b"c" * size  # UserComment
    return exif.tobytes()


def noisy_exif(entries: int = 400) -> bytes:
    """EXIF whose every entry points past its end: Pillow warns once per entry."""
    ifd = struct.pack("<H", entries) + b"".join(
        struct.pack("<HHII", 0x1000 + i, 7, 10**6, 0xFFFFFF) for i in range(entries)
    ) + struct.pack("<I", 0)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims another size."""
    data = bytearray(saved(Image.fromarray(scene(32, 24)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def hostile_files() -> dict[str, bytes]:
    """Name -> bytes of files built to hurt or confuse a decoder, and odd but valid ones."""
    pixels = scene(64, 48)
    frames = [Image.fromarray(scene(64, 48, seed=s)) for s in range(3)]
    return {
        "jpeg-claims-65535x65535": jpeg_claiming(65535, 65535),
        "jpeg-claims-0x0": jpeg_claiming(0, 0),
        "png-claims-100000x100000": b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(bytes(1024))) + png_chunk(b"IEND", b""),
        "bmp-claims-huge": b"BM" + struct.pack("<IHHI", 1000, 0, 0, 54)
        + struct.pack("<IiiHHIIiiII", 40, 50_000, 50_000, 1, 24, 0, 0, 0, 0, 0, 0) + bytes(64),
        "webp-claims-huge": b"RIFF" + struct.pack("<I", 30) + b"WEBPVP8X" + struct.pack("<I", 10) + bytes(4)
        + (16383).to_bytes(3, "little") * 2,
        "scan-bomb-4095": scan_bomb(4095, 20_000),
        "scan-bomb-just-under": scan_bomb(256, 90),
        "jpeg-exif-64k": saved(Image.fromarray(pixels), "JPEG", exif=big_exif(64_000)),
        "png-exif-200k": saved(Image.fromarray(pixels), "PNG", exif=big_exif(200_000, orientation=6)),
        "webp-exif-200k": saved(Image.fromarray(pixels), "WEBP", exif=big_exif(200_000)),
        "jpeg-icc-200k": saved(Image.fromarray(pixels), "JPEG", icc_profile=b"\x00" * 200_000),
        "jpeg-noisy-exif": saved(Image.fromarray(pixels), "JPEG", exif=noisy_exif()),
        "palette-long-transparency": palette_png(256, 300),
        "palette-2-colours-indices-past-end": palette_png(2, 2),
        "png-16-bit-rgb": png16(),
        "png-16-bit-gray": saved(Image.fromarray((np.arange(48 * 64).reshape(48, 64) * 21).astype(np.uint16)), "PNG"),
        "jpeg-cmyk": saved(Image.fromarray(pixels).convert("CMYK"), "JPEG"),
        "webp-animated": saved(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100),
        "png-animated": saved(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100),
        "bmp-1-bit": saved(Image.fromarray(pixels).convert("1"), "BMP"),
        "png-gray-alpha": saved(Image.fromarray(pixels).convert("LA"), "PNG"),
    }
