"""The Batch page: many photos, one mask for all or a mask per photo by name, progress per photo,
and one zip of the results. The rules and the work are eraser.batch_memory's; this page asks and
shows."""

import re
import time

import streamlit as st

from eraser import engines
from eraser.batch import DONE
from eraser.batch_memory import MAX_BATCH_BYTES, MAX_PHOTOS, MemoryBatch, check_uploads
from eraser.errors import EraserError
from eraser.images import EXTENSIONS, MAX_FILE_BYTES
from ui import engine

PHOTO_TYPES = list(EXTENSIONS)
ENGINE_CHOICES = engines.labels()
ONE_MASK, BY_NAME = "One mask for every photo", "A mask per photo, by name"
ZIP_NAME = "erased-photos.zip"


def plain(text: str) -> str:
    """Text shown as it is rather than as Markdown: a file may be named `*draft*.jpg`."""
    return re.sub(r"([\\`*_\[\]{}<>#|~$:])", r"\\\1", text)


def forget_result() -> None:
    """Other photos or masks: the zip shown belongs to the old ones."""
    st.session_state.batch_result = None


def keep_engine() -> None:
    # A plain key outlives the widget: leaving the page forgets a widget's value.
    st.session_state.batch_engine = st.session_state.batch_engine_input


def engine_choice() -> None:
    """The engines as the Erase page offers them, starting from the one chosen there."""
    st.session_state.setdefault("batch_engine", st.session_state.get("eraser_engine", engines.DEFAULT))
    st.session_state.batch_engine_input = st.session_state.batch_engine
    st.selectbox("Engine", list(ENGINE_CHOICES), format_func=ENGINE_CHOICES.get, key="batch_engine_input",
                 on_change=keep_engine, help="As on the Erase page. Classic needs no download.")


def line(outcome) -> str:
    """One photo's outcome in words, for a Markdown list."""
    if outcome.status == DONE:
        return (f"- :green[:material/check_circle:] {plain(outcome.photo)} → {plain(outcome.output)} "
                f"({plain(outcome.filled_by)})")
    return f"- :red[:material/error:] **{plain(outcome.photo)}**: {plain(outcome.reason)}"


def erase_all(photos: list[tuple[str, bytes]], mask: bytes | None, masks: list[tuple[str, bytes]] | None) -> None:
    """Erase the photos one after the other with a line per photo as each ends; the outcomes
    and the zip are kept for the page to show. A refusal is shown here and nothing is done."""
    start = time.perf_counter()
    st.session_state.batch_result = None
    try:
        batch = MemoryBatch(photos, mask=mask, masks=masks)
        backend = engine.ready(st.session_state.batch_engine)
    except EraserError as error:
        st.error(str(error))
        return
    bar, live, outcomes = st.progress(0.0), st.empty(), []

    def next_photo() -> None:
        count = len(outcomes)
        text = f"Erasing photo {count + 1} of {batch.total}: {plain(photos[count][0])}"
        bar.progress(count / batch.total, text=text)

    next_photo()
    for outcome in batch.run(backend):
        outcomes.append(outcome)
        live.markdown("\n".join(line(o) for o in outcomes))
        if len(outcomes) < batch.total:
            next_photo()
    st.session_state.batch_result = {
        "outcomes": outcomes,
        "zip": batch.results.close() if batch.results.count else None,
        "seconds": time.perf_counter() - start,
        "engine": ENGINE_CHOICES[st.session_state.batch_engine],
    }
    st.rerun()  # the page again, with the result in place of the progress


def show_result(result: dict) -> None:
    outcomes = result["outcomes"]
    done = [o for o in outcomes if o.status == DONE]
    failed = [o for o in outcomes if o.status != DONE]
    if not done:
        st.error("No photo could be erased: the reasons are below. Your photos are still uploaded above.")
    else:
        st.success(f"{len(done)} of {len(outcomes)} photos erased in {result['seconds']:.1f} s with "
                   f"{result['engine']}" + (f"; {len(failed)} could not be." if failed else "."))
        size = len(result["zip"]) / 2**20
        st.download_button(f"Download the erased photos ({ZIP_NAME}, {size:.1f} MB)", data=result["zip"],
                           file_name=ZIP_NAME, mime="application/zip", on_click="ignore", type="primary",
                           icon=":material/download:")
    for note in dict.fromkeys(o.note for o in done if o.note):  # the same note once, not per photo
        st.info(note)
    if failed:
        st.markdown(f"**Not erased ({len(failed)})**\n\n" + "\n".join(line(o) for o in failed))
    if done:
        with st.expander(f"Erased ({len(done)})"):
            st.markdown("\n".join(line(o) for o in done))


st.session_state.setdefault("batch_result", None)  # {"outcomes", "zip", "seconds", "engine"} of the last run

st.title("Batch")
st.write("Erase the same place in many photos (a watermark, a date stamp, a dust spot) with one mask, "
         "or each photo with its own mask, and download them all in one zip.")
files = st.file_uploader("Photos (JPEG, PNG, BMP or WEBP)", type=PHOTO_TYPES, accept_multiple_files=True,
                         key="batch_photos", on_change=forget_result)
how = st.radio("Mask", [ONE_MASK, BY_NAME], key="batch_how", horizontal=True, on_change=forget_result,
               captions=["White = erase; it must be the photos' size.",
                         "a.jpg takes a.png or a_mask.png from the masks you upload."])
mask, masks = None, None
if how == ONE_MASK:
    mask_file = st.file_uploader("Mask file", type=PHOTO_TYPES, key="batch_mask", on_change=forget_result)
    mask = None if mask_file is None else mask_file.getvalue()
else:
    mask_files = st.file_uploader("Mask files", type=PHOTO_TYPES, accept_multiple_files=True,
                                  key="batch_masks", on_change=forget_result)
    masks = [(f.name, f.getvalue()) for f in mask_files]
engine_choice()
st.caption(f"At most {MAX_PHOTOS} photos and {MAX_BATCH_BYTES // 2**20} MB per batch, photos and masks together "
           f"({MAX_FILE_BYTES // 2**20} MB per file). They are erased on this server, one after the other; "
           "stay on this page until the zip is ready.")

photos = [(f.name, f.getvalue()) for f in files]  # getvalue() shares the upload's bytes, no copy
refusal = ""
if photos:
    try:
        check_uploads(photos, masks or [])
    except EraserError as error:
        refusal = str(error)
        st.error(refusal)
missing = not photos or (mask is None if how == ONE_MASK else not masks)
if st.button("Erase all", type="primary", icon=":material/ink_eraser:", disabled=missing or bool(refusal)):
    erase_all(photos, mask, masks)
if st.session_state.batch_result is not None:
    show_result(st.session_state.batch_result)
