"""Learned engines: an ONNX model fills a window. What is common to every model lives here:
finding the file, one session per model file per process, checking the graph's inputs and
outputs, and the self-check that refuses a model wired with another convention.

A subclass says how its model wants a window (`feed`) and how to read its answer (`read`).
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .. import models
from ..errors import ModelError
from ..fetch import Progress
from . import selfcheck
from .base import Engine

# A failed load (no network, bad file) is not retried by every erase for this long.
RETRY_AFTER = 600.0


@dataclass(frozen=True)
class Wiring:
    """A session and the names its graph gave its tensors."""

    session: ort.InferenceSession
    image: str
    mask: str
    output: str


_lock = threading.Lock()
_locks: dict[tuple, threading.Lock] = {}
_sessions: dict[tuple, tuple[tuple, Wiring]] = {}  # model -> (file version, wiring)
_failures: dict[tuple, tuple[float, str]] = {}


def forget() -> None:
    """Drop every cached session and failure (after a model file was replaced)."""
    with _lock:
        _sessions.clear()
        _failures.clear()


class LearnedEngine(Engine):
    title: str
    tensor_type: str  # what the graph takes and gives, e.g. "tensor(uint8)"
    fixed_side: int | None = None  # a graph with a fixed square input

    def __init__(self, model_file: str | Path | None = None):
        self.model_file = Path(model_file) if model_file else None
        self._wiring: Wiring | None = None

    @property
    def model(self) -> models.Model:
        return models.get(self.name)

    def load(self, progress: Progress | None = None) -> LearnedEngine:
        """Find (or fetch) the model file, open it once per process and check it; ModelError if unusable."""
        if self._wiring is not None:
            return self
        key = (self.name, str(self.model_file.resolve()) if self.model_file else None)
        with _lock:
            model_lock = _locks.setdefault(key, threading.Lock())
        # One lock per model: a 208 MB download of one does not hold up the other.
        with model_lock:
            failed = _failures.get(key)
            if failed and time.monotonic() - failed[0] < RETRY_AFTER:
                raise ModelError(failed[1])
            try:
                self._wiring = self._open(key, progress)
            except ModelError as error:
                _failures[key] = (time.monotonic(), str(error))
                raise
            _failures.pop(key, None)
        return self

    def _open(self, key: tuple, progress: Progress | None) -> Wiring:
        file = self.model_file or models.ensure(self.model, progress)
        try:
            stat = file.stat()
        except OSError as exc:
            raise ModelError(f"Cannot read the model file '{file}': {exc.strerror or exc}.") from None
        version = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
        cached = _sessions.get(key)
        if cached and cached[0] == version:
            return cached[1]
        self._wiring = self._session(file)  # the self-check runs through this engine's own wiring
        try:
            selfcheck.check(self, file.name)
        finally:
            wiring, self._wiring = self._wiring, None
        _sessions[key] = (version, wiring)  # a replaced file's old session goes
        return wiring

    def _session(self, file: Path) -> Wiring:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # ONNX Runtime's own warnings are not the person's business
        # Without the arena, memory goes back after each window: bench/learned_speed.py measured
        # peaks of 1.17 GB -> 0.71 GB (MI-GAN) and 1.33 -> 0.95 GB (LaMa) for ~0.3 CPU s per window.
        options.enable_cpu_mem_arena = False
        try:
            session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable graphs
            raise ModelError(f"'{file.name}' is not a usable ONNX model ({_first_line(exc)}).") from None
        return self._wire(session, file.name)

    def _wire(self, session: ort.InferenceSession, name: str) -> Wiring:
        """Match the graph's tensors by shape and type, never by assumed names."""
        inputs, outputs = session.get_inputs(), session.get_outputs()
        by_channels = {_channels(t): t for t in inputs if len(t.shape) == 4}
        image, mask = by_channels.get(3), by_channels.get(1)
        problems = []
        if len(inputs) != 2 or image is None or mask is None:
            problems.append("it should take an image (1 x 3 x H x W) and a mask (1 x 1 x H x W)")
        elif {image.type, mask.type} != {self.tensor_type}:
            problems.append(f"its inputs should be {self.tensor_type}")
        if not outputs or len(outputs[0].shape) != 4 or outputs[0].type != self.tensor_type:
            problems.append(f"its output should be a {self.tensor_type} image of 1 x 3 x H x W")
        if self.fixed_side and image is not None and not all(
            isinstance(d, str) or d == self.fixed_side for d in image.shape[2:]
        ):
            problems.append(f"it should take {self.fixed_side} x {self.fixed_side} pixels")
        if problems:
            raise ModelError(f"'{name}' is not a {self.title} model: {'; '.join(problems)}.")
        return Wiring(session, image.name, mask.name, outputs[0].name)

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        wiring = self.load()._wiring
        rgb = np.where(mask[..., None], 0, rgb).astype(np.uint8)  # the object itself never reaches the model
        image, hole, undo = self.feed(rgb, mask)
        (out,) = wiring.session.run([wiring.output], {wiring.image: image, wiring.mask: hole})
        filled = self.read(out, undo)
        if filled.shape != rgb.shape:
            raise ModelError(f"The {self.title} model answered {filled.shape[1]}x{filled.shape[0]} pixels for "
                             f"{rgb.shape[1]}x{rgb.shape[0]}; it cannot be used.")
        return filled

    @abstractmethod
    def feed(self, rgb: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, object]:
        """The model's image and mask tensors, and what `read` needs to undo any resizing."""

    @abstractmethod
    def read(self, out: np.ndarray, undo: object) -> np.ndarray:
        """The model's output as an HxWx3 uint8 window."""


def _channels(tensor) -> int | None:
    dim = tensor.shape[1]
    return dim if isinstance(dim, int) else None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
