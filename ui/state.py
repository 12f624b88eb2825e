"""The pages' session state in one typed place: every key they keep, with its type and default.

    from ui.state import state
    state.edit          # reads st.session_state["eraser_edit"]
    state.edit = Edit(...)

Keys stay plain (`eraser_<name>`), so widgets can be bound to them and the About page can read
what the Erase page chose after its widgets are gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np
import streamlit as st

from eraser import engines
from eraser.editor import Edit

if TYPE_CHECKING:
    from ui.ahead import Ahead

T = TypeVar("T")
PREFIX = "eraser_"


class Key(Generic[T]):
    """One session-state entry, read and written as an attribute of State."""

    def __init__(self, default: Callable[[], T]):
        self.default = default

    def __set_name__(self, owner, name: str) -> None:
        self.key = PREFIX + name

    def __get__(self, obj, owner=None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        if self.key not in st.session_state:
            st.session_state[self.key] = self.default()
        return st.session_state[self.key]

    def __set__(self, obj, value: T) -> None:
        st.session_state[self.key] = value


class State:
    edit: Key[Edit | None] = Key(lambda: None)  # the photo being edited, its steps
    token: Key[str] = Key(str)  # the URL's key to this work in the server's store (ui/reload.py)
    file: Key[dict | None] = Key(lambda: None)  # {"file_name", "mime"} of its download
    upload_id: Key[str | None] = Key(lambda: None)  # the uploader's file last opened
    upload_error: Key[str | None] = Key(lambda: None)
    # After an upload, until the whole photo is decoded: {"before": the work it replaced, or None}.
    opening: Key[dict | None] = Key(lambda: None)
    # ((step key, canvas width), (JPEG, size)): the canvas's picture of an upload's first look.
    first_look: Key[tuple | None] = Key(lambda: None)
    notice: Key[str | None] = Key(lambda: None)  # said once: a model could not be had
    unavailable: Key[set] = Key(set)  # engines whose model could not be had, until one works
    failure: Key[dict | None] = Key(lambda: None)  # {"message", "remote"} of the last failed erase
    canvas: Key[int] = Key(lambda: 0)  # part of the canvas key: changing it gives an empty canvas
    drawing: Key[dict | None] = Key(lambda: None)  # the last drawing {"key", "json", "png", "start", "view"}
    # Marks made in earlier views or with another tool, in the photo's own pixels (ui/canvas.py).
    marks: Key[np.ndarray | None] = Key(lambda: None)  # to erase (bool, photo height x width)
    keep: Key[np.ndarray | None] = Key(lambda: None)  # keep out: the fill copies nothing from here
    view: Key[dict | None] = Key(lambda: None)  # {"photo", "zoom", "x", "y"}: the part on the canvas
    # The erase and keep-out masks of an erase whose file is still being made (pages/erase.py).
    erased_marks: Key[tuple | None] = Key(lambda: None)
    ahead: Key[Ahead | None] = Key(lambda: None)  # the fill started when the last stroke ended
    background: Key[tuple | None] = Key(lambda: None)  # (what it shows, JPEG): the canvas's picture
    width: Key[int] = Key(lambda: 704)  # the column's width, as the browser last reported it
    compare: Key[bool] = Key(lambda: False)
    backend: Key[str] = Key(lambda: "Local")
    engine: Key[str] = Key(lambda: engines.DEFAULT)
    remote_url: Key[str] = Key(lambda: "")  # for this session only; empty = the deployment's setting
    remote_key: Key[str] = Key(lambda: "")

    def init(self) -> None:
        """Give every key its default, so widgets bound to them start from it."""
        for name, value in vars(type(self)).items():
            if isinstance(value, Key):
                getattr(self, name)

    @staticmethod
    def key(name: str) -> str:
        """The plain session-state key of an attribute, for widgets bound to it."""
        return PREFIX + name


state = State()
