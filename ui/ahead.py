"""Erasing ahead: when a stroke ends, the fill of what is marked starts in the background, so that
Erase usually finds it done (a person takes the better part of a second to reach the button).

Only Local erases run ahead (a Remote call costs its owner); one fill at a time per server, so
all of this costs at most one core. A newer stroke's fill replaces one still waiting, and a
result is used only for exactly the photo, engine, mask and keep-out it was made from; anything
else is erased at the click as before. An error in a fill made ahead is shown at the click,
just as if the click had run it."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from eraser.backends import Local, Result
from eraser.images import Photo
from ui.state import state

_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eraser-ahead")


@dataclass(eq=False)
class Ahead:
    """A fill started for one photo (its step's key), way of erasing, mask and keep-out."""

    step: str
    how: tuple[str, str]  # (backend, engine)
    mask: np.ndarray
    keep_out: np.ndarray | None
    eraser: Local
    future: Future[Result]

    def serves(self, step: str, how: tuple[str, str], mask: np.ndarray, keep_out: np.ndarray | None) -> bool:
        same_keep = (keep_out is None) if self.keep_out is None else (
            keep_out is not None and np.array_equal(self.keep_out, keep_out))
        return self.step == step and self.how == how and same_keep and np.array_equal(self.mask, mask)


def start(step: str, how: tuple[str, str], mask: np.ndarray, keep_out: np.ndarray | None,
          eraser: Local, photo: Photo) -> None:
    """Fill ahead with `eraser`, unless a fill of the very same is already on its way."""
    if state.ahead is not None and state.ahead.serves(step, how, mask, keep_out):
        return  # a run that redraws the same marks (a toggle, a zoom)
    drop()
    future = _worker.submit(eraser.erase, photo, mask, keep_out=keep_out)
    state.ahead = Ahead(step, how, mask, keep_out, eraser, future)


def take(step: str, how: tuple[str, str], mask: np.ndarray, keep_out: np.ndarray | None) -> Ahead | None:
    """The fill made ahead for exactly these, running or done; else None, and it is dropped. One
    still waiting behind another session's is dropped too: the click fills sooner itself."""
    ahead, state.ahead = state.ahead, None
    if ahead is None or not ahead.serves(step, how, mask, keep_out) or ahead.future.cancel():
        return None
    return ahead


def drop() -> None:
    """Forget the fill made ahead (a new canvas: after an erase, undo, redo, clear or upload)."""
    if state.ahead is not None:
        state.ahead.future.cancel()  # a running fill ends on its own; its result is let go
        state.ahead = None
