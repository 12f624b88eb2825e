"""Hand-made hostile and odd files, shared by the unit tests and the CLI fuzz suite."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

from bench.inputs import cjpeg  # noqa: F401  (the tests' hostile JPEGs and the bench's share it)
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


def header_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, bytes) of each segment between SOI and the first SOS (excluded)."""
    found, pos = [], 2
    while data[pos + 1] != 0xDA:
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        found.append((data[pos + 1], data[pos:end]))
        pos = end
    return found


def dqt(slot: int, table: list[int]) -> bytes:
    """A DQT segment defining one 8-bit table, given in natural (row by row) order."""
    from PIL.JpegImagePlugin import zigzag_index  # natural position -> zigzag position

    zigzag = bytearray(64)
    for natural, position in enumerate(zigzag_index):
        zigzag[position] = table[natural]
    return b"\xff\xdb" + struct.pack(">HB", 67, slot) + bytes(zigzag)


def tables_redefined_after_first_scan(data: bytes) -> bytes:
    """The JPEG with table 0 redefined (coarser) just before its second scan: legal, and it
    decodes exactly as before, because each component keeps the tables in force at its first
    scan; the first scan holds the luma (baseline, one scan per component) or all components
    (progressive)."""
    second = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    coarser = [min(255, 3 * q) for q in Image.open(io.BytesIO(data)).quantization[0]]
    return data[:second] + dqt(0, coarser) + data[second:]


def metadata_after_tables(data: bytes) -> bytes:
    """The JPEG with its header reordered: JFIF first, then its quantisation tables, then its
    other APPn segments (EXIF, ICC), then the rest: legal, as some encoders write it."""
    segments = header_segments(data)
    first = [s for m, s in segments if m == 0xE0] + [s for m, s in segments if m == 0xDB]
    moved = [s for m, s in segments if 0xE1 <= m <= 0xEF]
    rest = [s for m, s in segments if m not in (0xE0, 0xDB) and not 0xE1 <= m <= 0xEF]
    head = b"".join(s for _, s in segments)
    return data[:2] + b"".join(first + moved + rest) + data[2 + len(head) :]
