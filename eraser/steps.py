"""The undo steps of every editing session in the process, under one memory budget.

Streamlit serves every visitor from one process (each session in its own thread), and each
visitor's history holds whole photo files: 20 visitors with 12 MP photos would hold gigabytes.
One StepStore keeps them all. When the steps in memory pass the budget, some leave it, those of
the session idle the longest first, its earliest steps first: to a private temporary directory,
itself capped, and, when that is full (or missing), they are dropped. What a session cannot do
without (its current photo, and the steps it keeps: its upload) leaves memory last, only when
the session has been idle for a while, and is never dropped (when the directory has no room for
it, it stays in memory); it comes back to memory when the session reads it again. A session
that reaches a dropped step finds it missing (`Shelf.get` answers None); eraser.editor tells
the person in a sentence.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import stat
import tempfile
import threading
import time
import weakref
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MEMORY_BYTES = 192 * 2**20  # steps in memory, all sessions together (measured: bench/app_memory.py)
DISK_BYTES = 2**30  # steps moved to disk, all sessions together
IDLE_SECONDS = 60.0  # a session unused this long may have its current photo moved to disk
PREFIX = "eraser-steps-"
# Where steps may go: the first directory that is on a disk (tmpfs would still be memory).
PLACES = (tempfile.gettempdir(), "/var/tmp")
_RAM_FILESYSTEMS = {"tmpfs", "ramfs"}


@dataclass(eq=False)
class _Entry:
    shelf: int
    number: int  # creation order: a smaller number is an earlier step
    size: int
    data: bytes | None  # in memory
    path: Path | None = None  # on disk
    digest: bytes = b""  # of the file on disk, checked when it is read back


@dataclass(eq=False)
class _ShelfState:
    used: int  # when the session last used its steps (a tick of the store's clock)
    seen: float  # the same, in seconds (time.monotonic): how long the session has been idle
    current: int = -1  # the number of its current step: earlier steps leave memory first
    kept: frozenset[int] = frozenset()  # never dropped, like the current photo (the upload)
    entries: set[int] = field(default_factory=set)


class StepStore:
    """Photo files of many sessions under one budget in memory (`memory_bytes`) and one on
    disk (`disk_bytes`, 0 for none); a session unused for `idle_seconds` may have its current
    photo moved to disk too. Thread-safe: every method holds one lock."""

    def __init__(self, memory_bytes: int = MEMORY_BYTES, disk_bytes: int = DISK_BYTES,
                 places: tuple[str | Path, ...] = PLACES, idle_seconds: float = IDLE_SECONDS,
                 clock=time.monotonic):
        if memory_bytes < 0 or disk_bytes < 0 or idle_seconds < 0:
            raise ValueError("memory_bytes, disk_bytes and idle_seconds must not be negative")
        self.memory_bytes = memory_bytes
        self.disk_bytes = disk_bytes
        self.idle_seconds = idle_seconds
        self._time = clock
        self._places = places
        self._lock = threading.Lock()
        self._ended: deque[int] = deque()  # sessions gone, whose steps are still to be freed
        self._clock = itertools.count()
        self._numbers = itertools.count()
        self._entries: dict[int, _Entry] = {}
        self._shelves: dict[int, _ShelfState] = {}
        self._in_memory = 0
        self._on_disk = 0
        self._folder: Path | None = None
        self._no_folder = disk_bytes == 0
        self._removal: weakref.finalize | None = None

    def shelf(self) -> Shelf:
        """A new session's place in the store; closing it (or losing it) frees its steps."""
        with self._held():
            number = next(self._numbers)
            self._shelves[number] = _ShelfState(used=next(self._clock), seen=self._time())
        shelf = Shelf(self, number)
        weakref.finalize(shelf, self._close, number)
        return shelf

    @property
    def in_memory(self) -> int:
        """Bytes of steps held in memory now."""
        return self._in_memory

    @property
    def on_disk(self) -> int:
        """Bytes of steps held on disk now."""
        return self._on_disk

    @property
    def folder(self) -> Path | None:
        """The private directory of steps on disk, once one was needed."""
        return self._folder

    def close(self) -> None:
        """Forget every step and remove the directory (also done when the process exits)."""
        with self._held():
            self._ended.extend(self._shelves)
            self._free_ended()
            if self._removal is not None:
                self._removal()
            self._folder, self._no_folder = None, True

    @contextmanager
    def _held(self):
        with self._lock:
            self._free_ended()
            yield

    # -- what a Shelf asks, under the lock --

    def _add(self, shelf: int, data: bytes, keep: tuple[int, ...]) -> int:
        data = bytes(data)
        with self._held():
            number = next(self._numbers)
            self._entries[number] = _Entry(shelf, number, len(data), data)
            self._shelves[shelf].entries.add(number)
            self._in_memory += len(data)
            self._current(shelf, number, keep)
            return number

    def _get(self, shelf: int, number: int) -> bytes | None:
        with self._held():
            self._touch(shelf)
            entry = self._entries.get(number)
            if entry is None:
                return None
            if entry.data is not None:
                return entry.data
            data = self._read(entry)
            if data is not None and self._is_kept(entry):
                self._to_memory(entry, data)  # the session is back: its photo is shown again
                self._make_room(shelf)
            return data

    def _use(self, shelf: int, current: int, keep: tuple[int, ...]) -> bool:
        with self._held():
            entry = self._entries.get(current)
            if entry is None:
                return False
            if entry.data is None:  # on disk: back in memory, as the photo being edited
                data = self._read(entry)
                if data is None:
                    return False
                self._to_memory(entry, data)
            self._current(shelf, current, keep)
            return True

    def _discard(self, numbers) -> None:
        with self._held():
            for number in numbers:
                if (entry := self._entries.get(number)) is not None:
                    self._forget(entry)

    def _close(self, shelf: int) -> None:
        # Also a finalizer, which the garbage collector may run in a thread that holds the
        # lock: then the steps are freed by whoever takes the lock next.
        self._ended.append(shelf)
        if self._lock.acquire(blocking=False):
            try:
                self._free_ended()
            finally:
                self._lock.release()

    def _free_ended(self) -> None:
        while self._ended:
            state = self._shelves.pop(self._ended.popleft(), None)
            for number in list(state.entries if state else ()):
                self._forget(self._entries[number])

    # -- the rest runs with the lock held --

    def _current(self, shelf: int, current: int, keep: tuple[int, ...]) -> None:
        state = self._shelves[shelf]
        state.current, state.kept = current, frozenset(keep)
        self._touch(shelf)
        self._make_room(shelf)

    def _touch(self, shelf: int) -> None:
        if (state := self._shelves.get(shelf)) is not None:
            state.used, state.seen = next(self._clock), self._time()

    def _is_kept(self, entry: _Entry) -> bool:
        """Whether a step is one its session cannot do without: its current photo, or one it
        keeps (its upload). Those leave memory last and are never dropped."""
        state = self._shelves[entry.shelf]
        return entry.number == state.current or entry.number in state.kept

    def _rank(self, entry: _Entry) -> tuple:
        """Which step leaves first (the smallest): any undo step before any kept one; of the
        session idle the longest, its earliest step, then its latest (the far end of what it
        can redo)."""
        state = self._shelves[entry.shelf]
        later = entry.number > state.current
        return self._is_kept(entry), state.used, later, -entry.number if later else entry.number

    def _movable(self, entry: _Entry, active: int, now: float) -> bool:
        """Whether a step in memory may leave it: any undo step, and a kept one only when its
        session (not the one being served) has been idle for a while."""
        if self._is_kept(entry):
            return entry.shelf != active and now - self._shelves[entry.shelf].seen >= self.idle_seconds
        return True

    def _make_room(self, active: int) -> None:
        now, stuck = self._time(), set()
        while self._in_memory > self.memory_bytes:
            movable = [e for e in self._entries.values()
                       if e.data is not None and e.number not in stuck and self._movable(e, active, now)]
            if not movable:
                return  # only the kept steps of sessions in use: they stay
            entry = min(movable, key=self._rank)
            data = entry.data
            entry.data = None
            self._in_memory -= entry.size
            if self._write(entry, data):
                continue
            if self._is_kept(entry):  # never dropped: it stays in memory
                entry.data = data
                self._in_memory += entry.size
                stuck.add(entry.number)
            else:
                self._forget(entry)

    def _to_memory(self, entry: _Entry, data: bytes) -> None:
        self._unlink(entry)
        entry.data = data
        self._in_memory += entry.size

    def _write(self, entry: _Entry, data: bytes) -> bool:
        """Move a step to disk, making room there from steps that would leave before it (never
        from kept ones)."""
        if entry.size > self.disk_bytes:
            return False
        while self._on_disk + entry.size > self.disk_bytes:
            on_disk = [e for e in self._entries.values() if e.path is not None and not self._is_kept(e)]
            first = min(on_disk, key=self._rank, default=None)
            if first is None or self._rank(first) > self._rank(entry):
                return False
            self._forget(first)
        folder = self._private_folder()
        if folder is None:
            return False
        path = folder / str(entry.number)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
        except OSError:  # a full or read-only disk: the step is dropped instead
            path.unlink(missing_ok=True)
            return False
        entry.path, entry.digest = path, _digest(data)
        self._on_disk += entry.size
        return True

    def _read(self, entry: _Entry) -> bytes | None:
        """A step's bytes from disk, or None (and the step dropped) when its file is gone or
        not what was written."""
        try:
            with open(entry.path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as file:
                data = file.read(entry.size + 1)
        except OSError:
            data = None
        if data is None or len(data) != entry.size or _digest(data) != entry.digest:
            self._forget(entry)
            return None
        return data

    def _forget(self, entry: _Entry) -> None:
        del self._entries[entry.number]
        if (state := self._shelves.get(entry.shelf)) is not None:
            state.entries.discard(entry.number)
        if entry.data is not None:
            self._in_memory -= entry.size
            entry.data = None
        self._unlink(entry)

    def _unlink(self, entry: _Entry) -> None:
        if entry.path is not None:
            entry.path.unlink(missing_ok=True)
            entry.path = None
            self._on_disk -= entry.size

    def _private_folder(self) -> Path | None:
        """This process's own directory (mode 700), made when first needed, removed at exit;
        None when no place on a disk can be written."""
        if self._folder is None and not self._no_folder:
            for place in self._places:
                if _memory_backed(Path(place)):
                    continue
                try:
                    _sweep(Path(place))
                    self._folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=place))
                except OSError:
                    continue
                self._removal = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
                break
            self._no_folder = self._folder is None
        return self._folder


class Shelf:
    """One session's steps in a StepStore, by number."""

    def __init__(self, store: StepStore, number: int):
        self._store = store
        self._number = number

    def add(self, data: bytes, keep: tuple[int, ...] = ()) -> int:
        """Keep a new step as the current one (see `use`); its number."""
        return self._store._add(self._number, data, keep)

    def get(self, step: int) -> bytes | None:
        """A step's bytes, from memory or disk (the current one comes back to memory); None
        once dropped."""
        return self._store._get(self._number, step)

    def use(self, current: int, keep: tuple[int, ...] = ()) -> bool:
        """Make a step the current one, back in memory, and make room for it; the steps in
        `keep` are kept like it (never dropped). False (and nothing changed) when that step was
        dropped."""
        return self._store._use(self._number, current, keep)

    def discard(self, steps) -> None:
        """Forget steps the session no longer needs."""
        self._store._discard(steps)

    def close(self) -> None:
        """Forget all of this session's steps."""
        self._store._close(self._number)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _memory_backed(place: Path) -> bool:
    """Whether a directory lies on a filesystem held in memory (tmpfs), by /proc/self/mounts."""
    try:
        mounts = Path("/proc/self/mounts").read_text()
        target = place.resolve()
    except OSError:
        return False
    best, kind = Path("/"), ""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(fields[1].replace("\\040", " "))
        if target.is_relative_to(point) and len(point.parts) >= len(best.parts):
            best, kind = point, fields[2]
    return kind in _RAM_FILESYSTEMS


def _sweep(place: Path) -> None:
    """Remove step directories that processes now gone left behind (a kill -9 skips the exit's
    cleanup): only this user's, and only directories, never what a link points to."""
    for folder in place.glob(f"{PREFIX}*"):
        try:
            pid = int(folder.name[len(PREFIX):].split("-", 1)[0])
            info = folder.lstat()
        except (ValueError, OSError):
            continue
        if pid == os.getpid() or info.st_uid != os.getuid() or not stat.S_ISDIR(info.st_mode):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass  # alive, under another user


# The store of this process: every Edit keeps its steps here unless given another.
STORE = StepStore()
