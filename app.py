"""Eraser: the Streamlit entry point. Page logic lives in pages/, erasing in the eraser library."""

import streamlit as st

from eraser import allocator
from ui import asset

allocator.return_large_blocks()  # freed photos leave the server's memory: see eraser/allocator.py
st.set_page_config(page_title="Eraser", page_icon=":material/ink_eraser:", layout="centered")
st.navigation(
    [
        st.Page("pages/erase.py", title="Erase", icon=":material/ink_eraser:", default=True),
        st.Page("pages/batch.py", title="Batch", icon=":material/photo_library:"),
        st.Page("pages/about.py", title="About", icon=":material/info:"),
    ]
).run()
# On a narrow screen the open sidebar lies over the page: it closes once a page is chosen there.
# Last on every page, where it takes no room.
st.components.v2.component("eraser.sidebar", js=asset("sidebar.js"))(key="eraser_sidebar")
