"""The check every learned model passes on load: a model wired with another convention does not
crash, it returns garbage, so it is run once on a case whose answer is known.

The case is a smooth gradient (red rising to the right, blue falling, green flat) with a square
hole in the middle painted a colour far from the answer (the engine feeds it black, but for a
thin ring of background estimate at its edge: learned.background). A working model fills the
hole close to the gradient; a swapped mask polarity keeps the hole as it came in (black),
a wrong value scale gives black or white, and swapped channels trade red for blue, which differ
by 70 levels there. A crude model that fills with the mean colour of the kept pixels passes:
this checks wiring, not quality.

The band just inside the hole's edge is measured on its own, more tightly: a model that blends
its fill with its input there (MI-GAN's pipeline does, over 2 to 3 px) shows whatever it was fed
as a rim, black or the object's colour, that is a small share of the whole hole.

The window is the engines' largest (512 px), so the memory the check needs bounds a real window's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ModelError
from ..masks import edge

if TYPE_CHECKING:
    from .learned import LearnedEngine

# Bump when the check or the engines' wiring changes: passes recorded by an older check no
# longer count (see vetting.py).
VERSION = 2
SIDE, HOLE = 512, 128
FAR = (10, 250, 250)
# Largest mean error (levels) of any channel in the hole. A mean-colour fill is off by about
# 10 in red and 6 in blue; swapped channels by about 70, the other failures by over 100.
TOLERANCE = 30.0
# The band: hole pixels at most BAND px from a kept pixel, and the largest mean error of any
# channel there. Measured with the tests' stand-ins: a mean-colour fill is off by 15 (9 when
# composited like MI-GAN over our background estimate); the same composite over a black hole
# by 52, over the object's colour by 65.
BAND = 3
RIM_TOLERANCE = 20.0


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


def error(filled: np.ndarray, where: np.ndarray, expected: np.ndarray) -> float:
    """The largest per-channel mean absolute error over `where`."""
    return float(np.abs(filled[where].astype(np.float32) - expected[where]).mean(axis=0).max())


def check(engine: LearnedEngine, file_name: str) -> None:
    from .learned import Unusable

    painted, hole, expected = case()
    try:
        filled = engine.inpaint(painted, hole)
    except Unusable as refused:
        raise ModelError(
            f"'{file_name}' failed its self-check: it {refused.problem} on a test window. It was not used."
        ) from None
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
    rim = error(filled, edge(hole, BAND), expected)
    if rim > RIM_TOLERANCE:
        raise ModelError(
            f"'{file_name}' failed its self-check: the {BAND} px just inside a test hole's edge are {rim:.0f} "
            "levels off, a rim around every fill (black, or the colour of what was erased). It was not used."
        )
