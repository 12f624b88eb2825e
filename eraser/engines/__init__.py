"""The registry of erasing engines, by name."""

from __future__ import annotations

from pathlib import Path

from ..errors import EngineError
from .auto import AutoEngine
from .base import Engine
from .lama import LamaEngine
from .learned import LearnedEngine
from .migan import MiganEngine
from .patchmatch import PatchMatchEngine
from .telea import TeleaEngine

DEFAULT = "auto"
_ENGINES: dict[str, type[Engine]] = {
    e.name: e for e in (AutoEngine, MiganEngine, LamaEngine, PatchMatchEngine, TeleaEngine)
}
LEARNED = [name for name, kind in _ENGINES.items() if issubclass(kind, LearnedEngine)]


def names() -> list[str]:
    """Engine names, the default first."""
    return list(_ENGINES)


def labels() -> dict[str, str]:
    """Engine names and the words a person is offered for each, the default first."""
    return {name: kind.label for name, kind in _ENGINES.items()}


def get(name: str, model_file: str | Path | None = None) -> Engine:
    """A fresh engine by name; EngineError names the choices for an unknown one.

    `model_file` runs a learned engine with an ONNX file of the person's own instead of the
    pinned download (its checksum is not checked; the self-check still is)."""
    try:
        kind = _ENGINES[name]
    except KeyError:
        raise EngineError(f"Unknown engine '{name}'. Choose one of: {', '.join(_ENGINES)}.") from None
    if model_file is None:
        return kind()
    if not issubclass(kind, LearnedEngine):
        raise EngineError(f"A model file only works with a learned engine ({', '.join(LEARNED)}), not '{name}'.")
    return kind(model_file)


__all__ = ["DEFAULT", "LEARNED", "Engine", "EngineError", "get", "labels", "names"]
