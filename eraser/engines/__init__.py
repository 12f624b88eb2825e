"""The registry of erasing engines, by name."""

from ..errors import EngineError
from .auto import AutoEngine
from .base import Engine
from .patchmatch import PatchMatchEngine
from .telea import TeleaEngine

DEFAULT = "auto"
_ENGINES: dict[str, type[Engine]] = {e.name: e for e in (AutoEngine, PatchMatchEngine, TeleaEngine)}


def names() -> list[str]:
    """Engine names, the default first."""
    return list(_ENGINES)


def get(name: str) -> Engine:
    """A fresh engine by name; EngineError names the choices for an unknown one."""
    try:
        return _ENGINES[name]()
    except KeyError:
        raise EngineError(f"Unknown engine '{name}'. Choose one of: {', '.join(_ENGINES)}.") from None


__all__ = ["DEFAULT", "Engine", "EngineError", "get", "names"]
