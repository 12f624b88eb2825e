"""The editing session behind the app's Erase page: a photo, its erase steps, undo and redo.

Pure Python (no Streamlit), so it is tested on its own and a page only draws it. Steps hold the
encoded photo files, which are small next to decoded pixels; the history is bounded by a number
of steps and by bytes, always keeping the current photo and the original (for Compare).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

MAX_STEPS = 5  # erases that can be undone
MAX_BYTES = 100 * 2**20  # encoded files kept for undo and redo


@dataclass(frozen=True)
class Step:
    """One state of the photo: its file bytes, and who made it (empty for the upload)."""

    data: bytes
    engine: str = ""  # the backend/engine that filled this step, e.g. "Local · auto"
    note: str = ""  # anything the person should know about this erase
    seconds: float = 0.0
    key: str = field(init=False)  # a short content id: for caches and widget keys

    def __post_init__(self):
        object.__setattr__(self, "key", hashlib.blake2b(self.data, digest_size=8).hexdigest())


class Edit:
    """A photo being edited: the original upload, then one step per erase.

    steps[:position + 1] can be undone back to steps[0]; steps[position + 1:] can be redone.
    """

    def __init__(self, data: bytes, name: str, size: tuple[int, int], *,
                 max_steps: int = MAX_STEPS, max_bytes: int = MAX_BYTES):
        if max_steps < 0 or max_bytes < 0:
            raise ValueError("max_steps and max_bytes must not be negative")
        self.name = name
        self.size = size
        self.original = Step(data)
        self.max_steps = max_steps
        self.max_bytes = max_bytes
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
        return sum(len(step.data) for step in self._steps)

    def push(self, data: bytes, engine: str = "", note: str = "", seconds: float = 0.0) -> Step:
        """Record an erase: it becomes the current photo and clears what could be redone."""
        step = Step(data, engine, note, seconds)
        del self._steps[self._position + 1 :]
        self._steps.append(step)
        self._position = len(self._steps) - 1
        self._trim()
        return step

    def undo(self) -> Step:
        if not self.can_undo:
            raise IndexError("nothing to undo")
        self._position -= 1
        return self.current

    def redo(self) -> Step:
        if not self.can_redo:
            raise IndexError("nothing to redo")
        self._position += 1
        return self.current

    def _trim(self) -> None:
        # Forget the oldest steps first; the current one always stays.
        while self._position > 0 and (
            self._position > self.max_steps or self.kept_bytes > self.max_bytes
        ):
            del self._steps[0]
            self._position -= 1
            self._forgotten += 1
