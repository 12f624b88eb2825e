"""The editing session behind the app's Erase page: a photo, its erase steps, undo and redo.

Pure Python (no Streamlit), so it is tested on its own and a page only draws it. An erase's file
can be made after the page has shown the erased pixels (`push` of a function that makes it, run
once, by whoever needs the bytes first); `settle` makes and stores it. Steps hold the
encoded photo files, which are small next to decoded pixels, in the process's StepStore
(eraser.steps), which keeps every session's steps under one budget: steps of idle sessions may
move to disk or be dropped, the original (for Compare) and the current photo last and never
dropped. Reaching a dropped step raises StepDropped with a sentence for the person. Each
session's history is also bounded by a number of steps and by bytes.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable

from . import steps
from .errors import StepDropped

MAX_STEPS = 5  # erases that can be undone
MAX_BYTES = 100 * 2**20  # encoded files kept for undo and redo, in memory or on disk

EARLIER_DROPPED = ("That earlier step was dropped to make room for other visitors; "
                   "the current photo and later steps are kept.")
LATER_DROPPED = "That later step was dropped to make room for other visitors; the current photo is kept."
DROPPED = "That step was dropped to make room for other visitors; the current photo is kept."


def content_key(data: bytes) -> str:
    """A short content id of a file: for caches and widget keys."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


class Making:
    """A file's bytes made by a function, once, by the first thread that asks for them; the
    others wait for that answer (or its error). The function is let go once it has run."""

    def __init__(self, make: Callable[[], bytes]):
        self._make: Callable[[], bytes] | None = make
        self._lock = threading.Lock()
        self._data: bytes | None = None
        self._error: Exception | None = None

    def result(self) -> bytes:
        with self._lock:
            if self._make is not None:
                try:
                    self._data = self._make()
                except Exception as error:
                    self._error = error
                finally:
                    self._make = None  # and whatever it holds: a whole photo's pixels
            if self._error is not None:
                raise self._error
            return self._data


class Step:
    """One state of the photo: its file bytes (kept by a Shelf, or still being made), and who
    made it (empty for the upload)."""

    def __init__(self, shelf: steps.Shelf, number: int | None, data: bytes | None, engine: str = "",
                 note: str = "", seconds: float = 0.0, making: Making | None = None):
        self.engine = engine  # the backend/engine that filled this step, e.g. "Local, Telea"
        self.note = note  # anything the person should know about this erase
        self.seconds = seconds
        self._shelf = shelf
        self.number = number  # in the shelf; None while the bytes are being made
        self._making = making
        if data is not None:
            self.size = len(data)
            self.key = content_key(data)  # for caches and widget keys
        else:  # a key before the bytes exist: random, so still one per content (never shared by two)
            self.size = 0
            self.key = secrets.token_hex(8)

    @property
    def pending(self) -> bool:
        """Whether the file is still to be made and stored (Edit.settle)."""
        return self._making is not None

    @property
    def data(self) -> bytes:
        """The file's bytes, waiting for them while they are being made (from any thread);
        StepDropped once the store has dropped them."""
        making = self._making  # read once: `Edit.settle` clears it after giving the step its number
        if making is not None:
            return making.result()
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
        # Kept like the current photo (never dropped; on disk only while the session is idle).
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

    def push(self, data: bytes | Callable[[], bytes], engine: str = "", note: str = "",
             seconds: float = 0.0) -> Step:
        """Record an erase: it becomes the current photo and clears what could be redone.

        `data` is the file's bytes, or a function that makes them: it runs once, when they are
        first needed (the step's `data`, from any thread), and the step reaches the store at the
        next `settle` (which the next push, undo or redo makes first)."""
        self.settle()
        self._forget(self._steps[self._position + 1 :])
        del self._steps[self._position + 1 :]
        if callable(data):
            step = Step(self._shelf, None, None, engine, note, seconds, making=Making(data))
        else:
            self._trim(len(data))  # before the new step takes room in the store
            step = self._add(data, (self.original.number,), engine, note, seconds)
        self._steps.append(step)
        self._position = len(self._steps) - 1
        return step

    def settle(self) -> None:
        """Make the current step's bytes if they are still to be made (or wait for them), and
        store them. If making them failed, the step is taken back, the one before is current
        again, and the error is raised. Only the last step pushed can be unsettled, and only
        while it is current."""
        step = self.current
        if step._making is None:
            return
        try:
            data = step._making.result()
        finally:  # out, as if never pushed, if that failed; else out of the count while room is made
            del self._steps[self._position]
            self._position -= 1
        self._trim(len(data))
        step.number, step.size = self._shelf.add(data, (self.original.number,)), len(data)
        step._making = None
        self._steps.append(step)
        self._position = len(self._steps) - 1

    def undo(self) -> Step:
        """Go back one step; StepDropped, with every earlier step forgotten, if it was dropped."""
        self.settle()
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
        self.settle()
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
