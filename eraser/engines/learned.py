"""Learned engines: an ONNX model fills a window. What is common to every model lives here:
finding the file, vetting it (opened and self-checked in a child process with a memory budget
and a time limit, see vetting.py), one session per model file per process, checking the graph's
inputs and outputs, a deadline on every run, and refusing an answer with NaN or Inf in it.

A subclass says how its model wants a window (`feed`) and how to read its answer (`read`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .. import models
from ..errors import ModelError
from ..masks import edge
from . import selfcheck, vetting
from .base import Engine

if TYPE_CHECKING:
    import onnxruntime as ort

    from ..fetch import Progress

# A failed load (no network, bad file) is not retried by every erase for this long.
RETRY_AFTER = 600.0
# The background estimate fed just inside the hole's edge: how deep (px; MI-GAN's pipeline blends
# its input 3 px in), and made at most how large (longer side, px).
RING = 6
BACKGROUND_SIDE = 128
QUIET = 4  # ONNX Runtime logs only fatal errors: ours reach the person as one sentence


@dataclass(frozen=True)
class Wiring:
    """A session, the names its graph gave its tensors, and how long one run may take."""

    session: ort.InferenceSession
    image: str
    mask: str
    output: str
    raw: str | None  # the float tensor a uint8 answer is cast from, to see NaN in it
    seconds: float


class Unusable(ModelError):
    """A model ran but its answer cannot be used; `problem` says why, after "it"."""

    def __init__(self, title: str, problem: str):
        self.problem = problem
        super().__init__(f"The {title} model {problem} on one window of this photo, so nothing was "
                         "filled with it. Try another engine.")


_lock = threading.Lock()
_locks: dict[tuple, threading.Lock] = {}
_sessions: dict[tuple, tuple[tuple, Wiring]] = {}  # model -> (file version, wiring)
_failures: dict[tuple, tuple[float, str]] = {}


def _failed_lately(key: tuple) -> str | None:
    """Why the model of `key` could not be had, if that was less than RETRY_AFTER ago."""
    failed = _failures.get(key)
    return failed[1] if failed and time.monotonic() - failed[0] < RETRY_AFTER else None


def forget() -> None:
    """Drop every cached session and failure (after a model file was replaced)."""
    with _lock:
        _sessions.clear()
        _failures.clear()


class LearnedEngine(Engine):
    title: str
    tensor_type: str  # what the graph takes and gives, e.g. "tensor(uint8)"
    fixed_side: int | None = None  # a graph with a fixed square input

    @property
    def model_title(self) -> str:
        return self.title

    def __init__(self, model_file: str | Path | None = None):
        self.model_file = Path(model_file) if model_file else None
        self._wiring: Wiring | None = None

    @property
    def model(self) -> models.Model:
        return models.get(self.name)

    def load(self, progress: Progress | None = None) -> LearnedEngine:
        """Find (or fetch) the model file, vet it (once per file version: vetting.py) and open it
        once per process; ModelError if unusable."""
        if self._wiring is not None:
            return self
        key = self._key()
        with _lock:
            model_lock = _locks.setdefault(key, threading.Lock())
        # One lock per model: a 208 MB download of one does not hold up the other.
        with model_lock:
            if failed := _failed_lately(key):
                raise ModelError(failed)
            try:
                self._wiring = self._open(key, progress)
            except ModelError as error:
                _failures[key] = (time.monotonic(), str(error))
                raise
            _failures.pop(key, None)
        return self

    def fetches(self) -> bool:
        return (self._wiring is None and self.model_file is None and not os.path.lexists(models.path(self.model))
                and not models.offline() and not _failed_lately(self._key()))  # a failure is not retried yet

    def _key(self) -> tuple:
        """This engine's model, as the process's sessions and failures are kept by."""
        return self.name, str(self.model_file.resolve()) if self.model_file else None

    def _open(self, key: tuple, progress: Progress | None) -> Wiring:
        file = self.model_file or models.ensure(self.model, progress)
        info = models.regular(file)  # before anything opens it
        version = (str(file.resolve()), info.st_size, info.st_mtime_ns)
        cached = _sessions.get(key)
        if cached and cached[0] == version:
            return cached[1]
        raw = vetting.vet(self.name, file, info)  # opened and self-checked in a child, within bounds
        wiring = self._session(file, raw)
        _sessions[key] = (version, wiring)  # a replaced file's old session goes
        return wiring

    def check_here(self, file: Path) -> str | None:
        """Open `file` and self-check it through this engine's own wiring, in this process (what
        the vetting child runs); ModelError if it fails. Returns `raw_output(file)`."""
        raw = self.raw_output(file)
        self._wiring = self._session(file, raw)
        try:
            selfcheck.check(self, file.name)
        finally:
            self._wiring = None
        return raw

    def raw_output(self, file: Path) -> str | None:
        """The float tensor a uint8 model's answer is cast from, if it is one: NaN cast to uint8
        comes out as 0, a black fill that looks like an answer, so that tensor is checked too."""
        if self.tensor_type != "tensor(uint8)":
            return None
        import onnx  # reads the whole graph: the vetting child does this, once per file

        try:
            graph = onnx.load(str(file), load_external_data=False).graph
        except Exception as exc:  # protobuf's own errors for a file that is not a graph
            raise ModelError(f"'{file.name}' is not a usable ONNX model ({_first_line(exc)}).") from None
        if any(tensor.data_location == onnx.TensorProto.EXTERNAL for tensor in graph.initializer):
            return None  # weights in other files: the model is opened from its path, as it is
        answer = graph.output[0].name if graph.output else None
        cast = next((node for node in graph.node if answer in node.output and node.op_type == "Cast"), None)
        return cast.input[0] if cast else None

    def _session(self, file: Path, raw: str | None) -> Wiring:
        import onnxruntime as ort  # here: a quarter of a second that only a learned engine's erase needs

        options = ort.SessionOptions()
        options.log_severity_level = QUIET
        # Without the arena, memory goes back after each window: bench/learned_speed.py measured
        # peaks of 1.17 GB -> 0.71 GB (MI-GAN) and 1.33 -> 0.95 GB (LaMa) for ~0.3 CPU s per window.
        options.enable_cpu_mem_arena = False
        try:
            with _with_output(file, raw) as graph:
                session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for unreadable graphs
            if _out_of_memory(exc):
                raise ModelError(vetting.out_of_memory(file.name)) from None
            raise ModelError(f"'{file.name}' is not a usable ONNX model ({_first_line(exc)}).") from None
        return self._wire(session, file.name, raw, vetting.time_limit(file.stat().st_size))

    def _wire(self, session: ort.InferenceSession, name: str, raw: str | None, seconds: float) -> Wiring:
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
        return Wiring(session, image.name, mask.name, outputs[0].name, raw, seconds)

    def inpaint(self, rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
        wiring = self.load()._wiring
        # The object itself never reaches the model, and what a model blends back at the hole's
        # edge (MI-GAN's pipeline does, over 2 to 3 px) is background, not black.
        rgb = background(rgb, mask)
        image, hole, undo = self.feed(rgb, mask)
        filled = self.read(self._run(wiring, {wiring.image: image, wiring.mask: hole}), undo)
        if filled.shape != rgb.shape:
            raise Unusable(self.title, f"answered {filled.shape[1]}x{filled.shape[0]} pixels for "
                                       f"{rgb.shape[1]}x{rgb.shape[0]}")
        return filled

    def _run(self, wiring: Wiring, feeds: dict) -> np.ndarray:
        """The model's answer, within its deadline, free of NaN and Inf; Unusable otherwise."""
        import onnxruntime as ort

        options = ort.RunOptions()
        options.log_severity_level = QUIET
        timer = threading.Timer(wiring.seconds, setattr, (options, "terminate", True))
        timer.daemon = True
        timer.start()
        try:
            answers = wiring.session.run([wiring.output] + ([wiring.raw] if wiring.raw else []), feeds, options)
        except Exception as exc:  # onnxruntime's own untyped errors
            if options.terminate:
                raise Unusable(self.title, f"took longer than {wiring.seconds:.0f} s") from None
            if _out_of_memory(exc):
                raise Unusable(self.title, f"needed more memory than a model may use ({vetting.budget()})") from None
            raise
        finally:
            timer.cancel()
        if not all(np.isfinite(answer).all() for answer in answers if answer.dtype.kind == "f"):
            raise Unusable(self.title, "answered NaN or infinite values")
        return answers[0]

    @abstractmethod
    def feed(self, rgb: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, object]:
        """The model's image and mask tensors, and what `read` needs to undo any resizing."""

    @abstractmethod
    def read(self, out: np.ndarray, undo: object) -> np.ndarray:
        """The model's output as an HxWx3 uint8 window."""


def background(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`rgb` as a model is fed it: the hole black (the object never reaches the model, and a model
    fed its own input in the hole gives black back, which the self-check sees), except a ring
    RING px wide just inside the hole's edge, where MI-GAN's pipeline blends its input into its
    fill: there, a quick estimate of the background. The estimate is a Telea fill made at most
    BACKGROUND_SIDE px wide and scaled back (about 13 ms for a 512 px window); any small pixel
    the hole touches is hole, so no trace of the object is kept."""
    height, width = mask.shape
    scale = min(1.0, BACKGROUND_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    hole = mask.view(np.uint8) * np.uint8(255)
    if scale < 1:
        hole = np.where(cv2.resize(hole, size, interpolation=cv2.INTER_AREA) > 0, np.uint8(255), np.uint8(0))
    estimate = cv2.inpaint(np.ascontiguousarray(small), hole, 3, cv2.INPAINT_TELEA)
    if scale < 1:
        estimate = cv2.resize(estimate, (width, height), interpolation=cv2.INTER_LINEAR)
    return np.where(edge(mask, RING)[..., None], estimate, np.where(mask[..., None], np.uint8(0), rgb))


@contextmanager
def _with_output(file: Path, name: str | None) -> Iterator[str | bytes]:
    """The model to open: its path, or a copy with `name` made one more output of its graph.
    Protobuf merges a message written twice, so a ModelProto holding only that output, appended
    to the file's bytes, adds it without parsing the file in Python. The copy is a file with no
    name (gone with the process, however it ends), opened by ONNX Runtime through /proc: from
    bytes, a session would hold about 25 MB more."""
    if name is None:
        yield str(file)
        return
    import onnx

    extra = onnx.ModelProto(graph=onnx.GraphProto(output=[onnx.ValueInfoProto(name=name)])).SerializeToString()
    with tempfile.TemporaryFile() as copy, file.open("rb") as original:
        shutil.copyfileobj(original, copy)
        copy.write(extra)
        copy.flush()
        path = f"/proc/self/fd/{copy.fileno()}"
        if os.path.exists(path):
            yield path
        else:  # no /proc
            copy.seek(0)
            yield copy.read()


def _out_of_memory(exc: Exception) -> bool:
    return isinstance(exc, MemoryError) or "alloc" in str(exc).lower()


def _channels(tensor) -> int | None:
    dim = tensor.shape[1]
    return dim if isinstance(dim, int) else None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
