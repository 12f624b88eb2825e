"""Save an erased JPEG without generation loss by keeping the original DCT coefficients of
every MCU the fill did not touch, and only where that is provably faithful.

The coefficients are read and written with jpeglib (libjpeg's own coefficient API); only the
touched MCUs are compressed again, by Pillow, with the photo's own quantisation tables and
chroma sampling, so outside them the decoded pixels stay bit-identical, however many times
the photo is erased and saved again. A file whose markers say the coefficient path could
not reproduce it (tables redefined between scans), or whose block-by-block save does not
decode like the original outside the fill (checked on every save), is compressed whole
instead, with its own tables and sampling.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image

from . import c_stderr
from .jpeg_markers import SOI, body, first_picture, header, standard_tables, tables_fixed

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


@dataclass(frozen=True, eq=False)
class Source:
    """What an opened JPEG needs to be saved again as close to the original as possible."""

    data: bytes
    pixels: np.ndarray  # the decoded, upright pixels the erase started from
    orientation: int
    gray: bool
    factors: tuple[int, int]  # luma (h, v) sampling; chroma is 1 x 1
    qtables: dict
    table_of: tuple[int, ...]  # quantisation table number of each component
    progressive: bool
    # False when the markers show the coefficient path cannot reproduce the file.
    keep_blocks: bool = True
    # The original's coefficients, being read while an engine fills (see `reading`).
    original: _Pending | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def of(cls, data: bytes, image: Image.Image, pixels: np.ndarray, orientation: int) -> Source | None:
        """The source of a JPEG Pillow opened, or None when it cannot be saved with its own
        tables and sampling (CMYK, RGB-coded, or a chroma sampling Pillow cannot write)."""
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
        table_of = tuple(q for *_, q in layer)
        if any(q not in image.quantization for q in table_of):
            return None  # a table defined only after the first scan
        return cls(
            data=data,
            pixels=pixels,
            orientation=orientation if orientation in _TO_STORED else 1,
            gray=image.mode == "L",
            factors=factors,
            qtables=dict(image.quantization),
            table_of=table_of,
            progressive=bool(image.info.get("progressive")),
            keep_blocks=tables_fixed(data),
        )

    def reading(self) -> Source:
        """This source with the original's coefficients read in the background: an erase starts
        it before its engine runs, so the read costs no time when the result is saved. Only
        that result holds them, not the opened photo (which the app caches). Past
        PREFETCH_PIXELS the read waits for the save instead: the coefficients of a 40 MP photo
        (up to 240 MB) would otherwise sit beside the engine's own whole-photo arrays."""
        if not self.keep_blocks or self.pixels.shape[0] * self.pixels.shape[1] > PREFETCH_PIXELS:
            return self
        return dataclasses.replace(self, original=_Pending(_READER.submit(_read_original, self.data)))

    def encode(self, pixels: np.ndarray) -> bytes | None:
        """The erased photo (upright RGB pixels of the source's size) as JPEG bytes, in the
        stored layout with the original's metadata: every untouched MCU's coefficients kept
        when the saved file is checked to decode like the original outside the fill, else
        the whole photo compressed with the original's tables and sampling. None when even
        that fails."""
        pending = self.original.take if self.original else lambda: None
        try:
            changed = _changed(pixels, self.pixels)
            if changed is None:
                return first_picture(self.data)
            stored = _TO_STORED[self.orientation](pixels)
            if self.keep_blocks:
                kept = self._keep_blocks(pending, stored, _TO_STORED[self.orientation](changed))
                if kept is not None:
                    return kept
            return self._whole(stored)
        except Exception:  # anything odd: Photo.encode saves it its own way
            return None

    def _keep_blocks(self, pending, pixels: np.ndarray, changed: np.ndarray) -> bytes | None:
        """The photo with its untouched MCUs' coefficients kept, or None when libjpeg refuses
        the file or the result does not decode like the original outside the touched MCUs."""
        try:
            original = pending() or _read_original(self.data)
            touched = _touched(changed, 8 * self.factors[0], 8 * self.factors[1])
            with tempfile.TemporaryDirectory(prefix="eraser-jpeg-") as tmp:
                saved = self._encode(original.coefficients, pixels, touched, Path(tmp))
        except Exception:  # libjpeg refusing a file Pillow read, tables that do not match...
            return None
        return saved if self._decodes_alike(saved, original.preview, touched) else None

    def _encode(self, original, pixels: np.ndarray, touched: np.ndarray, tmp: Path) -> bytes:
        import jpeglib

        planes = [original.Y] + ([] if self.gray else [original.Cb, original.Cr])
        if [int(t) for t in original.quant_tbl_no] != list(self.table_of):
            raise ValueError("quantisation tables assigned differently than Pillow reported")
        mcu_w, mcu_h = 8 * self.factors[0], 8 * self.factors[1]
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
        with c_stderr.silenced():
            optimize = "-OPTIMIZE_CODING" if standard_tables(self.data) else "+OPTIMIZE_CODING"
            out.write_dct(str(written), flags=[optimize])
        return SOI + header(self.data) + body(written.read_bytes())

    def _decodes_alike(self, saved: bytes, before: np.ndarray, touched: np.ndarray) -> bool:
        """Whether a block-by-block save decodes like the original outside the touched MCUs,
        as Pillow reads both: same size, sampling and quantisation table per component, and the
        same picture at 1/8 scale, where libjpeg decodes little more than each block's DC term,
        for a fraction of a full decode's time (docs/jpeg.md). This catches any case of the
        coefficient path misreading a file (tables, colours, layout) before it is shipped."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(saved), formats=["JPEG"])
        height, width = _TO_STORED[self.orientation](self.pixels).shape[:2]
        if (image.size != (width, height) or image.mode != ("L" if self.gray else "RGB")
                or [(h, v) for _, h, v, _ in image.layer] != self._component_factors()
                or [list(image.quantization.get(q, ())) for *_, q in image.layer]
                != [list(self.qtables[q]) for q in self.table_of]):
            return False
        after = _preview(saved)
        if after.shape != before.shape:
            return False
        # At 1/8 scale an MCU is fh x fv pixels, decoded from its own blocks only.
        fh, fv = self.factors
        away = ~np.repeat(np.repeat(touched, fv, 0), fh, 1)[: after.shape[0], : after.shape[1]]
        return np.array_equal(after[away], before[away])

    def _whole(self, pixels: np.ndarray) -> bytes:
        """The photo compressed whole, as close to the original as that gets: in its stored
        layout, so the block grid lines up with the original's and most blocks quantise back to
        the same coefficients; with its own table per component, sampling, progression and
        kind of Huffman tables; with its metadata (orientation tag included) byte for byte."""
        image = Image.fromarray(pixels)
        image = image.convert("L") if self.gray else image
        # Pillow gives table i to component i and the last one to the components after it.
        tables = [self.qtables[q] for q in self.table_of]
        tables = tables[:2] if len(tables) == 3 and tables[1] == tables[2] else tables
        out = io.BytesIO()
        image.save(out, "JPEG", qtables=tables, subsampling=_SUBSAMPLING[self.factors],
                   progressive=self.progressive, optimize=not standard_tables(self.data))
        return SOI + header(self.data) + body(out.getvalue())

    def _component_factors(self) -> list[tuple[int, int]]:
        return [self.factors] + ([] if self.gray else [(1, 1), (1, 1)])

    def _compress(self, crop: np.ndarray, path: Path, jpeglib) -> list[np.ndarray]:
        """The DCT coefficients of a crop compressed with the photo's own tables and sampling."""
        image = Image.fromarray(crop)
        image = image.convert("L") if self.gray else image
        image.save(path, "JPEG", qtables=self.qtables, subsampling=_SUBSAMPLING[self.factors])
        with c_stderr.silenced():
            fresh = jpeglib.read_dct(str(path))
            fresh.load()
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


class _Original(NamedTuple):
    coefficients: object  # jpeglib's DCTJPEG
    preview: np.ndarray  # the file decoded at 1/8 scale, for the check of the save


class _Pending:
    """The original being read in the background, handed out once: the save changes its
    coefficients in place, and they are not kept in memory after it."""

    def __init__(self, future: Future):
        self._future: Future | None = future
        self._lock = threading.Lock()

    def take(self) -> _Original | None:
        with self._lock:
            future, self._future = self._future, None
        return future.result() if future is not None else None


def _read_original(data: bytes) -> _Original:
    """The coefficients of a JPEG's first picture, in memory (jpeglib reads files only), and
    its 1/8-scale preview."""
    import jpeglib  # imported here: only saving an erased JPEG needs it

    _use_turbo(jpeglib)
    with tempfile.TemporaryDirectory(prefix="eraser-jpeg-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = Path(tmp) / "source.jpg"
        path.write_bytes(data)
        with c_stderr.silenced():
            original = jpeglib.read_dct(str(path))
            original.load()
    return _Original(original, _preview(data))


def _preview(data: bytes) -> np.ndarray:
    """A JPEG's first picture decoded by Pillow at 1/8 scale, in its stored layout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = Image.open(io.BytesIO(data), formats=["JPEG"])
        image.draft(image.mode, (image.width // 8, image.height // 8))
        # All at once: libjpeg cannot pause inside an arithmetic-coded scan, and these bytes
        # were decoded in full within the decode budget already.
        image.decodermaxblock = len(data)
        return np.asarray(image)


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
    """Which MCUs (grid cells of mcu_w x mcu_h pixels) hold at least one changed pixel. Only the
    MCU rows and columns around the changed pixels are looked at, not a padded copy of the photo."""
    height, width = changed.shape
    touched = np.zeros((-(-height // mcu_h), -(-width // mcu_w)), bool)
    x, y, w, h = cv2.boundingRect(changed.view(np.uint8))
    if not w:
        return touched
    top, left = y // mcu_h, x // mcu_w
    rows, cols = -(-(y + h) // mcu_h) - top, -(-(x + w) // mcu_w) - left
    padded = np.zeros((rows * mcu_h, cols * mcu_w), bool)
    part = changed[top * mcu_h : (top + rows) * mcu_h, left * mcu_w : (left + cols) * mcu_w]
    padded[: part.shape[0], : part.shape[1]] = part
    touched[top : top + rows, left : left + cols] = padded.reshape(rows, mcu_h, cols, mcu_w).any(axis=(1, 3))
    return touched


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
