"""The check every learned model passes on load: a model wired with another convention does not
crash, it returns garbage, so it is run once on a case whose answer is known.

The case is a smooth gradient (red rising to the right, blue falling, green flat) with a square
hole in the middle painted a colour far from the answer. A working model fills the hole close
to the gradient; a swapped mask polarity keeps the hole as it came in (black or the far colour),
a wrong value scale gives black
or white, and swapped channels trade red for blue, which differ by 70 levels there. A crude
model that fills with the mean colour of the kept pixels passes: this checks wiring, not quality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError

if TYPE_CHECKING:
    from .learned import LearnedEngine

SIDE, HOLE = 256, 64
FAR = (10, 250, 250)
# Largest mean error (levels) of any channel in the hole. A mean-colour fill is off by about
# 10 in red and 6 in blue; swapped channels by about 70, the other failures by over 100.
TOLERANCE = 30.0


def case() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input with the hole painted FAR, hole mask, the gradient the hole should become)."""
    x = np.linspace(0.0, 1.0, SIDE, dtype=np.float32)[None, :].repeat(SIDE, axis=0)
    expected = np.stack([60 + 160 * x, np.full_like(x, 100), 120 - 100 * x], axis=2).round().astype(np.uint8)
    hole = np.zeros((SIDE, SIDE), bool)
    start = (SIDE - HOLE) // 2
    hole[start : start + HOLE, start : start + HOLE] = True
    painted = expected.copy()
    painted[hole] = FAR
    return painted, hole, expected


def error(filled: np.ndarray, hole: np.ndarray, expected: np.ndarray) -> float:
    """The largest per-channel mean absolute error inside the hole."""
    return float(np.abs(filled[hole].astype(np.float32) - expected[hole]).mean(axis=0).max())


def check(engine: LearnedEngine, file_name: str) -> None:
    painted, hole, expected = case()
    try:
        filled = engine.inpaint(painted, hole)
    except ModelError:
        raise
    except Exception as exc:  # a graph that cannot run on a normal window is just as unusable
        raise ModelError(
            f"'{file_name}' failed its self-check: it could not fill a test window ({type(exc).__name__})."
        ) from None
    off = error(filled, hole, expected)
    if off > TOLERANCE:
        raise ModelError(
            f"'{file_name}' failed its self-check: it fills a test hole {off:.0f} levels off, so it "
            f"does not follow the {engine.title} conventions (mask polarity, value scale or channel order). "
            "It was not used."
        )
