"""Where an erase runs, behind one interface for the app, the CLI and the server.

    >>> result = Local("auto").erase(photo, mask)      # or Remote(key, url).erase(photo, mask)
    >>> result.photo, result.filled_by, result.note

`Local` runs an engine in this process: it loads it once (a learned engine fetches and checks
its model here, with progress) and decides once what happens when the model cannot be had.
`Remote` calls an image-erase API (docs/api.md). Both return a `Result`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import engines, pipeline
from .errors import MaskError, ModelError
from .images import Photo
from .pipeline import DEFAULT_GROW

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Result:
    """An erased photo, who filled it (e.g. "MI-GAN", "Telea, PatchMatch", "Remote service"),
    and a sentence the person should read, or ''."""

    photo: Photo
    filled_by: str
    note: str = ""


def weaker(title: str) -> str:
    """What a person is told when a learned model could not be had and the classic engine filled."""
    return (f"The {title} model is not available on this server, so the classic engine filled it; "
            "results on busy scenes are weaker.")


class Local:
    """Erasing in this process with a named engine.

    `fallback=True` (the app): a learned engine whose model cannot be had is replaced by
    PatchMatch, and each erase it fills says so. `fallback=False` (the CLI, the server): the
    ModelError reaches the caller. `auto` always falls back on its own, for objects only.
    `reason` keeps the technical cause of any fallback, for logs and the command line."""

    def __init__(self, engine: str = engines.DEFAULT, model_file: str | Path | None = None, *,
                 fallback: bool = False, read_ahead: bool = True):
        self.engine = engines.get(engine, model_file)
        self.fallback = fallback
        self.read_ahead = read_ahead  # see eraser.erase
        self.reason = ""
        self.model_title = self.engine.model_title
        self._loaded = False

    def load(self, progress: Progress | None = None) -> Local:
        """Get the engine ready now (with `progress(done, total)` bytes of a model download)."""
        if self._loaded:
            return self
        try:
            self.engine.load(progress)
        except ModelError as error:
            if not self.fallback:
                raise
            self.reason = f"{error} Objects are filled with PatchMatch instead."
            self.engine = engines.get("patchmatch")
        self.reason = self.reason or self.engine.note
        self._loaded = True
        return self

    @property
    def fetches(self) -> bool:
        """Whether `load` would download a model file first."""
        return not self._loaded and self.engine.fetches()

    @property
    def fell_back(self) -> bool:
        """Whether PatchMatch fills what the chosen engine was meant to fill."""
        return bool(self.reason)

    def erase(self, photo: Photo, mask: np.ndarray, grow: int = DEFAULT_GROW, *, crop: bool = True,
              keep_out: np.ndarray | None = None) -> Result:
        """`keep_out`: regions the fill must not copy from (see eraser.erase)."""
        self.load()
        erased = pipeline.erase(photo, mask, engine=self.engine, grow=grow, crop=crop, keep_out=keep_out,
                                read_ahead=self.read_ahead)
        # A fallback matters to the person only where PatchMatch really filled (auto's thin
        # strokes go to Telea either way).
        classic = self.fell_back and engines.get("patchmatch").title in erased.filled_by.split(", ")
        return Result(erased, erased.filled_by, weaker(self.model_title) if classic else "")


class Remote:
    """Erasing through an image-erase API; `api_key`/`url` as eraser.remote.RemoteEraser takes them."""

    filled_by = "Remote service"

    def __init__(self, api_key: str | None = None, url: str | None = None, **options):
        from .remote import RemoteEraser  # imported here: only this backend needs requests

        self.client = RemoteEraser(api_key, url, **options)

    def load(self, progress: Progress | None = None) -> Remote:
        return self

    def erase(self, photo: Photo, mask: np.ndarray, grow: int = DEFAULT_GROW, *,
              keep_out: np.ndarray | None = None) -> Result:
        if keep_out is not None and keep_out.any():
            raise MaskError("The online service cannot keep regions out of the fill. Clear the keep-out "
                            "marks, or erase with Local.")
        answer = self.client.erase(photo, mask, grow)
        return Result(answer.photo, self.filled_by, answer.note)
