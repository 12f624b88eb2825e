"""A batch of photos held in memory (the app's uploads), erased one at a time into one zip.

    batch = MemoryBatch([("a.jpg", data_a), ("b.png", data_b)], mask=mask_bytes)  # or masks=[(name, bytes)]
    for outcome in batch.run(Local("telea")):
        print(outcome.photo, outcome.status, outcome.output or outcome.reason)
    zip_bytes = batch.results.close()

The rules are eraser.batch's (one mask for photos of its size, or a.jpg with a.png or
a_mask.png; outputs <stem>_erased.<ext> in the photo's own format; one bad photo never stops
the others). What differs: photos come as (name, bytes), run in this process one after the
other (one decoded photo in memory at a time), and each result goes, encoded, into a zip built
in memory within a byte cap. The caps on the batch are checked before any photo is touched.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import PureWindowsPath
from typing import Protocol

import numpy as np

from .backends import Result

# The folder batch's own rules, so that both match masks, name outputs and fail alike.
from .batch import (
    DONE,
    Outcome,
    _by_stem,
    _failed,
    _mask_for,
    _matching,
    _no_single_mask,
    _same_output,
    _settle,
    _Shared,
)
from .errors import EraserError
from .images import Photo
from .masks import check_grow, prepare, read_mask
from .pipeline import DEFAULT_GROW

MAX_PHOTOS = 50  # photos in one batch (and mask files)
MAX_BATCH_BYTES = 200 * 2**20  # the photos and mask files of one batch together
MAX_ZIP_BYTES = 300 * 2**20  # the zip of the results: erased photos can be larger than the uploads
OWN_MASK = "Give this photo its own mask: choose “A mask per photo, by name”."
OUT_OF_MEMORY = "Erase it on its own, or fewer photos at a time."

Upload = tuple[str, bytes]  # a file's name and its bytes


class Backend(Protocol):
    """eraser.backends.Local or Remote: anything that erases a photo with an already grown mask."""

    def erase(self, photo: Photo, mask: np.ndarray, grow: int) -> Result: ...


def check_uploads(photos: Sequence[Upload], masks: Sequence[Upload] = ()) -> None:
    """Refuse, in words, a batch over the caps on photos and bytes (or with no photo at all)."""
    if not photos:
        raise EraserError("There are no photos: upload at least one.")
    for count, what in ((len(photos), "photos"), (len(masks), "mask files")):
        if count > MAX_PHOTOS:
            raise EraserError(f"That is {count} {what}; a batch takes at most {MAX_PHOTOS}. "
                              f"Erase them in batches of {MAX_PHOTOS} or fewer.")
    total = sum(len(data) for _, data in (*photos, *masks))
    if total > MAX_BATCH_BYTES:
        shown = math.ceil(total / 2**20 * 10) / 10  # rounded up: never "200.0 MB" over a cap of 200
        raise EraserError(f"The photos and masks come to {shown:.1f} MB; a batch takes at most "
                          f"{MAX_BATCH_BYTES // 2**20} MB. Erase them in smaller batches.")


class MemoryBatch:
    """Photos in memory with exactly one of `mask` (a mask file's bytes, for every photo of its
    size) or `masks` (mask files by name). The caps, a bad one mask or a bad grow raise
    EraserError here, before any photo is decoded."""

    def __init__(self, photos: Sequence[Upload], *, mask: bytes | None = None,
                 masks: Sequence[Upload] | None = None, grow: int = DEFAULT_GROW, zip_cap: int = MAX_ZIP_BYTES):
        if (mask is None) == (masks is None):
            raise EraserError("Give either one mask for every photo or a mask per photo.")
        check_uploads(photos, [("mask", mask)] if mask is not None else masks)
        check_grow(grow)
        one_mask = None
        if mask is not None:  # read, checked and grown once, not for every photo
            marks = read_mask(mask)
            one_mask = prepare(marks, (marks.shape[1], marks.shape[0]), grow)
        self.shared = _Shared(one_mask, grow, overwrite=False, own_mask=OWN_MASK)
        self.photos = list(photos)
        self.masks = None if masks is None else _by_stem(masks, lambda upload: PureWindowsPath(upload[0]).stem)
        self.results = ResultsZip(zip_cap)

    @property
    def total(self) -> int:
        return len(self.photos)

    def run(self, backend: Backend) -> Iterator[Outcome]:
        """Each photo's outcome in turn, its result (when done) added to `results`."""
        for name, data in self.photos:
            yield _settle(name, partial(self._erase, name, data, backend), OUT_OF_MEMORY)

    def _erase(self, name: str, data: bytes, backend: Backend) -> Outcome:
        own = None
        if self.masks is not None:  # by name first: a photo without its mask is not even decoded
            stem = PureWindowsPath(name).stem
            found = _matching(stem, self.masks)
            if len(found) != 1:
                return _failed(name, _no_single_mask(stem, [n for n, _ in found], "among the masks"))
            own = found[0][1]
        # The base name only: an upload's name comes from the browser and may carry a path.
        photo = Photo.open(data, name=PureWindowsPath(name).name)
        entry = photo.output_name()  # by content: a PNG named .jpg comes back a PNG
        if (earlier := self.results.source(entry)) is not None:  # before the work, not after
            return _failed(name, _same_output(entry, earlier))
        result = backend.erase(photo, _mask_for(own, photo, self.shared), grow=0)  # grown already
        self.results.add(entry, result.photo.encode(), name)
        return Outcome(name, DONE, entry, filled_by=result.filled_by, note=result.note)


class ResultsZip:
    """A zip built in memory, one file at a time, never more than `cap` bytes: a file that would
    pass it is refused (EraserError) and the zip stays as it was."""

    HEADERS = 30 + 46  # a file's local header and its central directory entry, besides its name
    END = 22  # the end of central directory record

    def __init__(self, cap: int = MAX_ZIP_BYTES):
        self.cap = cap
        self.count = 0
        self._buffer: io.BytesIO | None = io.BytesIO()
        self._zip = zipfile.ZipFile(self._buffer, "w")
        self._directory = self.END  # bytes the central directory will take when closed
        self._sources: dict[str, str] = {}  # entry name, case-folded -> the photo it came from

    def source(self, entry: str) -> str | None:
        """The photo whose result already has this name (in any case: a.jpg and A.jpg would
        overwrite each other when unzipped on Windows or macOS), or None."""
        return self._sources.get(entry.casefold())

    def add(self, entry: str, data: bytes, source: str) -> None:
        if self._buffer is None:
            raise ValueError("the zip is closed")
        # BMP is not compressed: deflate it; JPEG, PNG and WEBP are, and deflating them gains nothing.
        method = zipfile.ZIP_DEFLATED if entry.lower().endswith(".bmp") else zipfile.ZIP_STORED
        name = len(entry.encode())
        most = len(data) + len(data) // 1000 + 64  # deflate's worst case is a few bytes per 16 KB
        if self._buffer.tell() + self._directory + self.HEADERS + 2 * name + most > self.cap:
            raise EraserError(f"The zip of the results would pass {self.cap / 2**20:g} MB, its limit, with this "
                              "photo: erase it in another batch.")
        self._zip.writestr(entry, data, compress_type=method)
        self._directory += 46 + name
        self._sources[entry.casefold()] = source
        self.count += 1

    def close(self) -> bytes:
        """The zip's bytes; its buffer is let go, so only this copy stays."""
        if self._buffer is None:
            raise ValueError("the zip is closed")
        self._zip.close()
        data, self._buffer = self._buffer.getvalue(), None
        return data
