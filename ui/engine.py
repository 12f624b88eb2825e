"""A Local engine made ready on a page: its model fetched the first time, with a progress bar
(and PatchMatch in its place, said in each erase's note, when it cannot be had)."""

import streamlit as st

from eraser.backends import Local


def ready(engine: str, read_ahead: bool = True, fetch: bool = True) -> Local | None:
    """`engine` loaded; a download shows a bar where the page is drawing, one step per percent.
    `read_ahead`: as eraser.erase takes it. `fetch=False`: None rather than a download."""
    local = Local(engine, fallback=True, read_ahead=read_ahead)
    if not fetch and local.fetches:
        return None
    bar, shown = None, -1

    def progress(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            bar = st.progress(0.0)
        if (percent := 100 * done // total) != shown:  # one message per percent, not per chunk
            shown = percent
            bar.progress(percent / 100, text=f"Downloading the model (once): {done / 1e6:.0f} of {total / 1e6:.0f} MB")

    try:
        return local.load(progress)
    finally:
        if bar is not None:
            bar.empty()
