"""Work that survives a browser reload: a random token in the page's URL (?work=…) keyed to a
bounded, expiring store on the server (eraser.sessions). Only the URL's holder gets the work."""

import streamlit as st

from eraser.sessions import Sessions
from ui.state import state

PARAM = "work"


@st.cache_resource(show_spinner=False)
def store() -> Sessions:
    """One store for every session of this server."""
    return Sessions()


def restore() -> None:
    """After a reload (a new session with the token in its URL): the photo, its steps, the
    drawing and the marks of other views back. Also puts the token back in the URL after a visit to another page."""
    token = st.query_params.get(PARAM)
    if state.edit is None and token and (kept := store().get(token)) is not None:
        state.token = token
        _set(kept)
    if state.token and token != state.token:
        st.query_params[PARAM] = state.token


def _current() -> tuple:
    """The work's parts, as the store keeps them (references only: nothing is copied)."""
    return state.edit, state.file, state.drawing, state.canvas, state.marks, state.keep, state.view


def _set(kept: tuple) -> None:
    state.edit, state.file, state.drawing, state.canvas, state.marks, state.keep, state.view = kept


def work() -> tuple:
    """The work as it is now, with its token, to put back should what replaces it fail."""
    return state.token, _current()


def put_back(kept: tuple) -> None:
    """Work from work(), back as it was, with its URL."""
    state.token, parts = kept
    _set(parts)
    if state.token:
        st.query_params[PARAM] = state.token
    else:
        st.query_params.pop(PARAM, None)


def start() -> None:
    """A new photo: a new token, so an old URL never brings this one."""
    state.token = Sessions.new_token()
    st.query_params[PARAM] = state.token


def forget() -> None:
    """The work is gone (its photo could not be read back): a reload must not bring it."""
    if state.token:
        store().forget(state.token)
    state.token = None
    st.query_params.pop(PARAM, None)


def save() -> None:
    """Keep the work as it is now."""
    if state.edit is None or not state.token:
        return
    drawing = state.drawing
    nbytes = state.edit.kept_bytes + (len(drawing["png"] or b"") if drawing else 0)
    nbytes += sum(mask.nbytes for mask in (state.marks, state.keep) if mask is not None)
    store().put(state.token, _current(), nbytes)
