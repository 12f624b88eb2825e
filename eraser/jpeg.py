"""JPEG files as files: count their scans before decoding, and save an erased JPEG without
generation loss by keeping the original DCT coefficients of every MCU the fill did not touch.

The coefficients are read and written with jpeglib (libjpeg's own coefficient API); only the
touched MCUs are compressed again, by Pillow, with the photo's own quantisation tables and
chroma sampling, so outside them the decoded pixels stay bit-identical, however many times
the photo is erased and saved again.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import tempfile
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

# Real photos have 1 (baseline) to a few dozen (progressive) scans. A crafted file with tens of
# thousands of empty scans decodes for minutes: refuse it from its markers.
MAX_SCANS = 100

SOI, SOS, EOI = b"\xff\xd8", 0xDA, b"\xff\xd9"
PREFETCH_PIXELS = 24_000_000
# Pillow's subsampling option for (h, v) factors of luma when chroma is 1 x 1.
_SUBSAMPLING = {(1, 1): 0, (2, 1): 1, (2, 2): 2}

# Orientation tag value -> function from upright pixels back to the file's stored layout
# (the inverse of what Pillow's exif_transpose did on opening).
_TO_STORED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, 1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, -1),
}


def _segments(data: bytes):
    """(marker, start, end) of each header segment after SOI, up to and including the first SOS."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        yield marker, pos, pos + 2 + length
        if marker == SOS:
            return
        pos += 2 + length


def count_scans(data: bytes) -> int:
    """How many scans (SOS markers) the first picture of a JPEG holds.

    Inside entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so
    every FF DA after the first scan starts another one; an EXIF thumbnail's scans sit in the
    header and are skipped with it.
    """
    first = next((start for marker, start, _ in _segments(data) if marker == SOS), None)
    if first is None:
        return 0
    end = data.find(EOI, first)
    return data.count(b"\xff\xda", first, end if end >= 0 else len(data))


def _header(data: bytes) -> bytes:
    """The APPn (EXIF, ICC, XMP...) and COM segments of a JPEG, verbatim, minus MPO's index
    (it points at pictures that are not saved again)."""
    kept = []
    for marker, start, end in _segments(data):
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            if marker == 0xE1 and data[start + 4 : start + 10] == b"Exif\x00\x00":
                kept.append(_without_thumbnail(data[start:end]))
            elif not (marker == 0xE2 and data[start + 4 : start + 8] == b"MPF\x00"):
                kept.append(data[start:end])
        elif marker not in (0xD8,):
            break
    return b"".join(kept)


def _without_thumbnail(segment: bytes) -> bytes:
    """An EXIF segment without its thumbnail (IFD1), which still shows what was erased: the
    thumbnail's bytes are blanked and IFD0's link to it cut, so every offset stays valid."""
    tiff = bytearray(segment[10:])
    try:
        order = {b"II": "<", b"MM": ">"}[bytes(tiff[:2])]
        ifd0 = struct.unpack_from(order + "I", tiff, 4)[0]
        link = ifd0 + 2 + 12 * struct.unpack_from(order + "H", tiff, ifd0)[0]
        ifd1 = struct.unpack_from(order + "I", tiff, link)[0]
        if not ifd1:
            return segment
        fields = {}
        for i in range(struct.unpack_from(order + "H", tiff, ifd1)[0]):
            tag, kind, _, value = struct.unpack_from(order + "HHII", tiff, ifd1 + 2 + 12 * i)
            fields[tag] = value if kind != 3 else (value & 0xFFFF if order == "<" else value >> 16)
        start, length = fields.get(0x0201, 0), fields.get(0x0202, 0)
        if start and 0 < length <= len(tiff) - start:
            tiff[start : start + length] = bytes(length)
        struct.pack_into(order + "I", tiff, link, 0)
    except (KeyError, struct.error):
        return segment
    return segment[:10] + bytes(tiff)


def _without_header(data: bytes) -> bytes:
    """The JPEG from its first table or frame segment on (its APPn/COM segments dropped)."""
    for marker, start, _ in _segments(data):
        if not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            return data[start:]
    raise ValueError("no frame in the written JPEG")


def _first_picture(data: bytes) -> bytes:
    """The JPEG as is, without pictures appended after it (MPO) or their index."""
    body = _without_header(data)
    first_scan = next(start for marker, start, _ in _segments(data) if marker == SOS)
    end = data.find(EOI, first_scan)
    body = body[: len(body) - len(data) + end + 2] if end >= 0 else body
    return SOI + _header(data) + body


@dataclass(frozen=True, eq=False)
class Source:
    """What an opened JPEG needs to be saved again without loss outside the erased blocks."""

    data: bytes
    pixels: np.ndarray  # the decoded, upright pixels the erase started from
    orientation: int
    gray: bool
    factors: tuple[int, int]  # luma (h, v) sampling; chroma is 1 x 1
    qtables: dict
    table_of: tuple[int, ...]  # quantisation table number of each component
    # The original's coefficients, being read while an engine fills (see `reading`).
    original: _Pending | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def of(cls, data: bytes, image: Image.Image, pixels: np.ndarray, orientation: int) -> Source | None:
        """The source of a JPEG Pillow opened, or None when it cannot be kept block by block
        (CMYK, RGB-coded, or a chroma sampling Pillow cannot write)."""
        layer = getattr(image, "layer", None)
        if image.mode not in ("L", "RGB") or not layer or image.info.get("adobe_transform") == 0:
            return None
        if image.mode == "L":
            factors = (1, 1)
        else:
            if len(layer) != 3 or any((h, v) != (1, 1) for _, h, v, _ in layer[1:]):
                return None
            factors = (layer[0][1], layer[0][2])
            if factors not in _SUBSAMPLING:
                return None
        return cls(
            data=data,
            pixels=pixels,
            orientation=orientation if orientation in _TO_STORED else 1,
            gray=image.mode == "L",
            factors=factors,
            qtables=dict(image.quantization),
            table_of=tuple(q for *_, q in layer),
        )

    def reading(self) -> Source:
        """This source with the original's coefficients read in the background: an erase starts
        it before its engine runs, so the read costs no time when the result is saved. Only
        that result holds them, not the opened photo (which the app caches). Past
        PREFETCH_PIXELS the read waits for the save instead: the coefficients of a 40 MP photo
        (up to 240 MB) would otherwise sit beside the engine's own whole-photo arrays."""
        if self.pixels.shape[0] * self.pixels.shape[1] > PREFETCH_PIXELS:
            return self
        return dataclasses.replace(self, original=_Pending(_READER.submit(_read_coefficients, self.data)))

    def encode(self, pixels: np.ndarray) -> bytes | None:
        """The erased photo (upright RGB pixels of the source's size) as JPEG bytes that keep
        every untouched MCU's coefficients, or None when libjpeg refuses the file."""
        try:
            changed = _changed(pixels, self.pixels)
            if changed is None:
                return _first_picture(self.data)
            original = (self.original and self.original.take()) or _read_coefficients(self.data)
            with tempfile.TemporaryDirectory(prefix="eraser-jpeg-") as tmp:
                return self._encode(original, _TO_STORED[self.orientation](pixels),
                                    _TO_STORED[self.orientation](changed), Path(tmp))
        except Exception:  # libjpeg refusing a file Pillow read, or anything odd: save it whole
            return None

    def _encode(self, original, pixels: np.ndarray, changed: np.ndarray, tmp: Path) -> bytes:
        import jpeglib

        planes = [original.Y] + ([] if self.gray else [original.Cb, original.Cr])
        if [int(t) for t in original.quant_tbl_no] != list(self.table_of):
            raise ValueError("quantisation tables assigned differently than Pillow reported")
        mcu_w, mcu_h = 8 * self.factors[0], 8 * self.factors[1]
        touched = _touched(changed, mcu_w, mcu_h)
        count, _, stats, _ = cv2.connectedComponentsWithStats(touched.view(np.uint8), connectivity=8)
        # Each group of touched MCUs is compressed in bands of MCU rows, so a near-full mask
        # never makes a whole-photo crop and its coefficients at once.
        step = _ROWS // mcu_h
        bands = [(x, top, w, min(step, y + h - top)) for x, y, w, h, _ in stats[1:count]
                 for top in range(y, y + h, step)]
        for x, y, w, h in bands:
            crop = pixels[y * mcu_h : (y + h) * mcu_h, x * mcu_w : (x + w) * mcu_w]
            fresh = self._compress(crop, tmp / "crop.jpg", jpeglib)
            for plane, new, (fh, fv) in zip(planes, fresh, self._component_factors(), strict=True):
                where = np.repeat(np.repeat(touched[y : y + h, x : x + w], fv, 0), fh, 1)
                dest = plane[y * fv : y * fv + new.shape[0], x * fh : x * fh + new.shape[1]]
                rows, cols = dest.shape[:2]
                np.copyto(dest, new[:rows, :cols], where=where[:rows, :cols, None, None])
        shared = [plane.view(_Shared) for plane in planes]
        out = jpeglib.from_dct(
            Y=shared[0], Cb=None if self.gray else shared[1], Cr=None if self.gray else shared[2],
            qt=original.qt, quant_tbl_no=original.quant_tbl_no,
        )
        out.samp_factor = original.samp_factor
        out.height, out.width = original.height, original.width  # not rounded up to whole blocks
        written = tmp / "out.jpg"
        # Huffman tables fitted to the photo, as its own were, or the standard ones, as its own
        # were (most cameras): the size stays close, and a second pass is spent only if needed.
        out.write_dct(str(written), flags=["-OPTIMIZE_CODING" if _standard_tables(self.data) else "+OPTIMIZE_CODING"])
        return SOI + _header(self.data) + _without_header(written.read_bytes())

    def _component_factors(self) -> list[tuple[int, int]]:
        return [self.factors] + ([] if self.gray else [(1, 1), (1, 1)])

    def _compress(self, crop: np.ndarray, path: Path, jpeglib) -> list[np.ndarray]:
        """The DCT coefficients of a crop compressed with the photo's own tables and sampling."""
        image = Image.fromarray(crop)
        image = image.convert("L") if self.gray else image
        image.save(path, "JPEG", qtables=self.qtables, subsampling=_SUBSAMPLING[self.factors])
        fresh = jpeglib.read_dct(str(path))
        same_tables = np.array_equal(np.asarray(fresh.qt), np.asarray(_tables_in_use(self)))
        if not same_tables or [int(t) for t in fresh.quant_tbl_no] != list(self.table_of):
            raise ValueError("the crop was quantised with other tables")
        return [fresh.Y] + ([] if self.gray else [fresh.Cb, fresh.Cr])


class _Shared(np.ndarray):
    """A coefficient plane jpeglib's writer hands to libjpeg as it is: its write_dct makes an
    int16 copy of every plane first (astype), a whole extra copy of the photo's coefficients."""

    def astype(self, dtype, *args, **kwargs):
        if np.dtype(dtype) == self.dtype and self.flags.c_contiguous:
            return self
        return np.asarray(self).astype(dtype, *args, **kwargs)


class _Pending:
    """Coefficients being read in the background, handed out once: the save changes them in
    place, and they are not kept in memory after it."""

    def __init__(self, future: Future):
        self._future: Future | None = future
        self._lock = threading.Lock()

    def take(self):
        with self._lock:
            future, self._future = self._future, None
        return future.result() if future is not None else None


def _huffman_tables(data: bytes) -> set[bytes]:
    """Each Huffman table of a JPEG as its class, code counts and symbols (not its slot)."""
    tables = set()
    for marker, start, end in _segments(data):
        if marker != 0xC4:
            continue
        pos = start + 4
        while pos + 17 <= end:
            size = 17 + sum(data[pos + 1 : pos + 17])
            tables.add(bytes([data[pos] >> 4]) + data[pos + 1 : pos + size])
            pos += size
    return tables


_STANDARD: set[bytes] = set()


def _standard_tables(data: bytes) -> bool:
    """Whether a JPEG uses only the standard (JPEG spec, Annex K) Huffman tables."""
    if not _STANDARD:
        sample = io.BytesIO()
        Image.new("RGB", (8, 8)).save(sample, "JPEG", optimize=False)
        _STANDARD.update(_huffman_tables(sample.getvalue()))
    tables = _huffman_tables(data)
    return bool(tables) and tables <= _STANDARD


def _read_coefficients(data: bytes):
    """The coefficients of a JPEG's first picture, in memory (jpeglib reads files only)."""
    import jpeglib  # imported here: only saving an erased JPEG needs it

    _use_turbo(jpeglib)
    with tempfile.TemporaryDirectory(prefix="eraser-jpeg-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "source.jpg"
        path.write_bytes(data)
        original = jpeglib.read_dct(str(path))
        original.load()
    return original


_ROWS = 512  # pixel rows compared or compressed at a time

# One reader: the read overlaps an engine's work without piling up under many requests.
_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eraser-jpeg")


def _changed(pixels: np.ndarray, before: np.ndarray) -> np.ndarray | None:
    """Which pixels differ (H x W bool), or None when none do. Rows are compared as contiguous
    bytes first (a per-pixel test over 12 MP costs a fifth of a second), in bands of _ROWS, so
    the comparison never holds a whole-photo copy."""
    height, width = before.shape[:2]
    changed = None
    for top in range(0, height, _ROWS):
        differs = np.not_equal(pixels[top : top + _ROWS].reshape(-1, width * 3),
                               before[top : top + _ROWS].reshape(-1, width * 3))
        if not differs.any():
            continue
        band = differs.reshape(-1, width, 3)
        changed = np.zeros((height, width), bool) if changed is None else changed
        changed[top : top + _ROWS] = band[..., 0] | band[..., 1] | band[..., 2]
    return changed


def _tables_in_use(source: Source) -> list:
    return [np.asarray(source.qtables[i]).reshape(8, 8) for i in sorted(source.qtables)]


def _touched(changed: np.ndarray, mcu_w: int, mcu_h: int) -> np.ndarray:
    """Which MCUs (grid cells of mcu_w x mcu_h pixels) hold at least one changed pixel."""
    height, width = changed.shape
    rows, cols = -(-height // mcu_h), -(-width // mcu_w)
    padded = np.zeros((rows * mcu_h, cols * mcu_w), bool)
    padded[:height, :width] = changed
    return padded.reshape(rows, mcu_h, cols, mcu_w).any(axis=(1, 3))


_turbo_set = False


def _use_turbo(jpeglib) -> None:
    """libjpeg-turbo reads and writes coefficients about twice as fast as jpeglib's default 6b."""
    global _turbo_set
    if not _turbo_set:
        try:
            jpeglib.version.set("turbo210")
        except (NotImplementedError, RuntimeError, OSError):
            pass
        _turbo_set = True
