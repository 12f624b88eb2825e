"""The editing session behind the app's Erase page: a photo, its erase steps, undo and redo.

Pure Python (no Streamlit), so it is tested on its own and a page only draws it. Steps hold the
encoded photo files, which are small next to decoded pixels, in the process's StepStore
(eraser.steps), which keeps every session's steps under one budget: the original (for Compare)
stays in memory; other steps of idle sessions may move to disk (their current photo last, and
never dropped) or be dropped, and reaching a dropped one raises StepDropped with a sentence for
the person. Each session's history is also bounded by a number of steps and by bytes.
"""

from __future__ import annotations

import hashlib

from . import steps
from .errors import StepDropped

MAX_STEPS = 5  # erases that can be undone
MAX_BYTES = 100 * 2**20  # encoded files kept for undo and redo, in memory or on disk

EARLIER_DROPPED = ("That earlier step was dropped to make room for other visitors; "
                   "the current photo and later steps are kept.")
LATER_DROPPED = "That later step was dropped to make room for other visitors; the current photo is kept."
DROPPED = "That step was dropped to make room for other visitors; the current photo is kept."


class Step:
    """One state of the photo: its file bytes (kept by a Shelf), and who made it (empty for
    the upload)."""

    def __init__(self, shelf: steps.Shelf, number: int, data: bytes, engine: str = "", note: str = "",
                 seconds: float = 0.0):
        self.engine = engine  # the backend/engine that filled this step, e.g. "Local, Telea"
        self.note = note  # anything the person should know about this erase
        self.seconds = seconds
        self.size = len(data)
        self.key = hashlib.blake2b(data, digest_size=8).hexdigest()  # a short content id: for caches and widget keys
        self._shelf = shelf
        self.number = number

    @property
    def data(self) -> bytes:
        """The file's bytes; StepDropped once the store has dropped them."""
        data = self._shelf.get(self.number)
        if data is None:
            raise StepDropped(DROPPED)
        return data


class Edit:
    """A photo being edited: the original upload, then one step per erase.

    steps[:position + 1] can be undone back to steps[0]; steps[position + 1:] can be redone.
    """

    def __init__(self, data: bytes, name: str, size: tuple[int, int], *,
                 max_steps: int = MAX_STEPS, max_bytes: int = MAX_BYTES, store: steps.StepStore | None = None):
        if max_steps < 0 or max_bytes < 0:
            raise ValueError("max_steps and max_bytes must not be negative")
        self.name = name
        self.size = size
        self.max_steps = max_steps
        self.max_bytes = max_bytes
        # The process's store unless told otherwise; the shelf frees its steps when this Edit goes.
        self._shelf = (store or steps.STORE).shelf()
        self.original = self._add(data)
        # Kept in memory: Streamlit holds the upload's bytes anyway, so moving them out would free nothing.
        self._shelf.use(self.original.number, (self.original.number,))
        self._steps = [self.original]
        self._position = 0
        self._forgotten = 0  # steps trimmed from the start

    @property
    def current(self) -> Step:
        return self._steps[self._position]

    @property
    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    @property
    def position(self) -> int:
        return self._position

    @property
    def erase_count(self) -> int:
        """How many erases lie between the original and the current photo."""
        return self._forgotten + self._position

    @property
    def erased(self) -> bool:
        """Whether the current photo differs from the upload (something to download)."""
        return self.current is not self.original

    @property
    def can_undo(self) -> bool:
        return self._position > 0

    @property
    def can_redo(self) -> bool:
        return self._position < len(self._steps) - 1

    @property
    def kept_bytes(self) -> int:
        """Bytes held for undo and redo, the original included when it is still a step."""
        return sum(step.size for step in self._steps)

    def push(self, data: bytes, engine: str = "", note: str = "", seconds: float = 0.0) -> Step:
        """Record an erase: it becomes the current photo and clears what could be redone."""
        self._forget(self._steps[self._position + 1 :])
        del self._steps[self._position + 1 :]
        self._trim(len(data))  # before the new step takes room in the store
        step = self._add(data, (self.original.number,), engine, note, seconds)
        self._steps.append(step)
        self._position = len(self._steps) - 1
        return step

    def undo(self) -> Step:
        """Go back one step; StepDropped, with every earlier step forgotten, if it was dropped."""
        if not self.can_undo:
            raise IndexError("nothing to undo")
        if not self._shelf.use(self._steps[self._position - 1].number, (self.original.number,)):
            self._forget(self._steps[: self._position])
            del self._steps[: self._position]
            self._forgotten += self._position
            self._position = 0
            raise StepDropped(EARLIER_DROPPED)
        self._position -= 1
        return self.current

    def redo(self) -> Step:
        """Go forward one step; StepDropped, with every later step forgotten, if it was dropped."""
        if not self.can_redo:
            raise IndexError("nothing to redo")
        if not self._shelf.use(self._steps[self._position + 1].number, (self.original.number,)):
            self._forget(self._steps[self._position + 1 :])
            del self._steps[self._position + 1 :]
            raise StepDropped(LATER_DROPPED)
        self._position += 1
        return self.current

    def _trim(self, incoming: int) -> None:
        # Forget the oldest steps first, to make room for one more of `incoming` bytes.
        while self._steps and (len(self._steps) > self.max_steps or self.kept_bytes + incoming > self.max_bytes):
            self._forget(self._steps[:1])
            del self._steps[0]
            self._forgotten += 1

    def _add(self, data: bytes, keep: tuple[int, ...] = (), *record) -> Step:
        """A new step, the current photo from now on (never moved out of memory while it is)."""
        return Step(self._shelf, self._shelf.add(data, keep), data, *record)

    def _forget(self, gone: list[Step]) -> None:
        self._shelf.discard(step.number for step in gone if step is not self.original)
