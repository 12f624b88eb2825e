"""The registry of erasing engines, by name.

Each engine's module is imported when that engine is first asked for, so listing the engines or
running telea does not import the others (a learned engine imports ONNX Runtime only when it
opens its model)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EngineError

if TYPE_CHECKING:
    from .base import Engine

DEFAULT = "auto"
# name -> (module, class), the default first
_ENGINES = {
    "auto": ("auto", "AutoEngine"),
    "migan": ("migan", "MiganEngine"),
    "lama": ("lama", "LamaEngine"),
    "patchmatch": ("patchmatch", "PatchMatchEngine"),
    "telea": ("telea", "TeleaEngine"),
}
# The engines that run an ONNX model (tests/unit/test_lazy_imports.py holds this to their classes).
LEARNED = ["migan", "lama"]


def names() -> list[str]:
    """Engine names, the default first."""
    return list(_ENGINES)


def kind(name: str) -> type[Engine]:
    """The class of a named engine; EngineError names the choices for an unknown one."""
    try:
        module, cls = _ENGINES[name]
    except KeyError:
        raise EngineError(f"Unknown engine '{name}'. Choose one of: {', '.join(_ENGINES)}.") from None
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def modules(name: str) -> list[str]:
    """What a process imports to run engine `name`, for a forkserver to import once for all the
    worker processes it starts: the engine's module, and ONNX Runtime and onnx when this process
    has opened a model with them (load the engine first)."""
    kind(name)  # refuses an unknown name
    return [f"{__name__}.{_ENGINES[name][0]}"] + [m for m in ("onnxruntime", "onnx") if m in sys.modules]


def labels() -> dict[str, str]:
    """Engine names and the words a person is offered for each, the default first."""
    return {name: kind(name).label for name in _ENGINES}


def get(name: str, model_file: str | Path | None = None) -> Engine:
    """A fresh engine by name; EngineError names the choices for an unknown one.

    `model_file` runs a learned engine with an ONNX file of the person's own instead of the
    pinned download (its checksum is not checked; the self-check still is)."""
    engine = kind(name)
    if model_file is None:
        return engine()
    if name not in LEARNED:
        raise EngineError(f"A model file only works with a learned engine ({', '.join(LEARNED)}), not '{name}'.")
    return engine(model_file)


def __getattr__(name: str):
    if name == "Engine":  # the base class, for type hints and new engines
        from .base import Engine

        return Engine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEFAULT", "LEARNED", "Engine", "EngineError", "get", "kind", "labels", "modules", "names"]
