"""The Erase page: upload a photo, paint what should go, erase, compare, download, keep going."""

import io
import time

import streamlit as st
from PIL import Image

# Importable only inside a running Streamlit app (it declares a Components v2 component).
from streamlit_drawable_canvas import st_canvas

import eraser
from eraser import Photo, engines, load_mask, mask_from_drawing
from eraser.errors import EraserError, RemoteError

# The canvas and the previews fit this box: the centered layout's column, a laptop screen's height.
DISPLAY_BOX = (704, 560)
PREVIEW_QUALITIES = (85, 70, 50)
PREVIEW_BUDGET = 290_000  # JPEG bytes: under 400 KB once the canvas sends it as base64
# Photos kept for Undo, as encoded files: at most this many, and this many bytes (one is always kept).
HISTORY_STEPS = 5
HISTORY_BYTES = 100 * 2**20
MARK_COLOR = "rgba(255, 40, 80, 0.45)"  # see-through, so the person sees what they cover
TOOLS = {"Brush": "freedraw", "Rectangle": "rect"}
BACKENDS = ("Local", "Remote")
PHOTO_TYPES = ["jpg", "jpeg", "png", "bmp", "webp"]


# Cached by content across sessions and reruns: a brush stroke must never re-decode the photo.
# A resource, not data: Photo's arrays are read-only, so sharing one object is safe and spares
# a 36 MB (12 MP) copy on every call.
@st.cache_resource(max_entries=2, ttl="30m", show_spinner=False)
def open_photo(data: bytes, name: str | None) -> Photo:
    return Photo.open(data, name)


@st.cache_data(max_entries=16, ttl="30m", show_spinner=False)
def preview(data: bytes, name: str | None) -> tuple[bytes, tuple[int, int]]:
    """A JPEG of the photo scaled to fit DISPLAY_BOX (never enlarged), and its size."""
    photo = open_photo(data, name)
    width, height = photo.size
    scale = min(1.0, DISPLAY_BOX[0] / width, DISPLAY_BOX[1] / height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = photo.to_image().resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if image.mode == "RGBA":  # JPEG has no transparency: show it on white, as viewers do
        image = Image.alpha_composite(Image.new("RGBA", size, "white"), image).convert("RGB")
    for quality in PREVIEW_QUALITIES:  # only fine noise all over needs the lower ones
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= PREVIEW_BUDGET:
            break
    return out.getvalue(), size


@st.cache_data(max_entries=2, ttl="30m", show_spinner=False)
def mask_file(data: bytes, size: tuple[int, int]):
    return load_mask(data, size)


def run_erase(photo: Photo, mask) -> Photo:
    """The one place that calls a backend, so wiring another one is a one-line change."""
    if st.session_state.eraser_backend == "Remote":
        raise RemoteError("The remote backend is not set up in this app yet. Choose Local in the sidebar.")
    return eraser.erase(photo, mask, engine=st.session_state.eraser_engine)


def init_state() -> None:
    defaults = {
        "eraser_photo": None,  # {"data": file bytes, "name": original file name, "size": (w, h)}
        "eraser_history": [],  # earlier eraser_photo values, newest last, for Undo
        "eraser_result": None,  # {"data", "file_name", "mime", "log", "seconds"} of the last erase
        "eraser_upload_error": None,
        "eraser_canvas": 0,  # part of the canvas key: changing it gives an empty canvas
        "eraser_backend": "Local",
        "eraser_engine": engines.names()[0],
    }
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def set_photo(photo: dict) -> None:
    st.session_state.eraser_photo = photo
    st.session_state.eraser_result = None
    st.session_state.eraser_canvas += 1


def on_upload() -> None:
    file = st.session_state.eraser_upload
    st.session_state.eraser_upload_error = None
    if file is None:
        return  # the person closed the file; keep working on the photo they have
    data = file.getvalue()
    try:
        photo = open_photo(data, file.name)
    except EraserError as error:
        st.session_state.eraser_upload_error = str(error)
        return
    st.session_state.eraser_history = []
    set_photo({"data": data, "name": file.name, "size": photo.size})


def clear_mask() -> None:
    st.session_state.eraser_canvas += 1


def keep_erasing() -> None:
    photo, result = st.session_state.eraser_photo, st.session_state.eraser_result
    history = (st.session_state.eraser_history + [photo])[-HISTORY_STEPS:]
    while len(history) > 1 and sum(len(old["data"]) for old in history) > HISTORY_BYTES:
        history.pop(0)
    st.session_state.eraser_history = history
    set_photo({**photo, "data": result["data"]})


def undo() -> None:
    set_photo(st.session_state.eraser_history.pop())


def backend_sidebar() -> None:
    # The choice lives under plain keys, so the About page can read it after the widgets are gone.
    with st.sidebar:
        backend = st.radio(
            "Erase with",
            BACKENDS,
            index=BACKENDS.index(st.session_state.eraser_backend),
            captions=["This server (private)", "An AILabTools-compatible API"],
        )
        st.session_state.eraser_backend = backend
        if backend == "Local":
            names = engines.names()
            st.session_state.eraser_engine = st.selectbox(
                "Engine",
                names,
                index=names.index(st.session_state.eraser_engine),
                help="auto picks the best engine installed; telea is fastest on thin marks.",
            )
        else:
            st.warning("Remote is not configured yet: no service address or key is set up. Use Local.")


def erase_now(photo_state: dict, mask, drawing) -> None:
    """Erase with visible steps; on success show the result, on failure keep everything as it was."""
    start = time.perf_counter()
    log: list[str] = []
    with st.status("Erasing…", expanded=True) as status:

        def step(text: str) -> None:
            log.append(f"{text} ({time.perf_counter() - start:.1f} s)")
            st.write(log[-1])

        try:
            photo = open_photo(photo_state["data"], photo_state["name"])
            if mask is None:
                mask = mask_from_drawing(drawing, photo.size)
            step("Mask ready")
            result = run_erase(photo, mask)
            step(f"Erased ({st.session_state.eraser_backend})")
            data = result.encode()
            step(f"Saved as {photo.format}")
        except EraserError as error:
            status.update(label="Erase failed", state="error", expanded=False)
            st.error(str(error))
            return
    st.session_state.eraser_result = {
        "data": data,
        "file_name": photo.output_name(),
        "mime": photo.mime_type(),
        "log": log,
        "seconds": time.perf_counter() - start,
    }
    st.rerun()  # the result is drawn outside this fragment


@st.fragment
def mask_and_erase(photo_state: dict) -> None:
    """Tools, canvas and Erase: a stroke reruns only this part, not the upload or the result."""
    generation = st.session_state.eraser_canvas
    tool_col, size_col, clear_col = st.columns([2, 3, 1.3], vertical_alignment="bottom")
    tool = tool_col.radio("Tool", list(TOOLS), horizontal=True, key="eraser_tool")
    brush = size_col.slider("Brush size", 5, 120, 35, key="eraser_brush", disabled=tool != "Brush")
    clear_col.button("Clear mask", on_click=clear_mask, width="stretch")

    background, (width, height) = preview(photo_state["data"], photo_state["name"])
    canvas = st_canvas(
        fill_color=MARK_COLOR,
        stroke_color=MARK_COLOR,
        stroke_width=brush if tool == "Brush" else 1,  # a thick border would grow the rectangle
        background_image=background,
        width=width,
        height=height,
        drawing_mode=TOOLS[tool],
        return_image_data=True,
        key=f"eraser_canvas_{generation}",
    )
    drawing = canvas.image_data
    marked = drawing is not None and bool(drawing[..., 3].any())

    with st.expander("Or use a mask file (white = erase)"):
        file = st.file_uploader("Mask file", type=PHOTO_TYPES, key=f"eraser_mask_{generation}")
    mask = None
    if file is not None:
        try:
            mask = mask_file(file.getvalue(), photo_state["size"])
        except EraserError as error:
            st.error(str(error))
        else:
            marked = bool(mask.any())
            st.caption("Using the mask file instead of the drawing.")

    if st.button("Erase", type="primary", disabled=not marked, key="eraser_erase"):
        erase_now(photo_state, mask, drawing)
    if not marked:
        st.caption("Paint over what should go (or upload a mask file), then press Erase.")


def show_result(photo_state: dict, result: dict) -> None:
    st.subheader("Result")
    before, after = st.columns(2)
    before.image(preview(photo_state["data"], photo_state["name"])[0], caption="Before", width="stretch")
    after.image(preview(result["data"], photo_state["name"])[0], caption="After", width="stretch")
    with st.status(f"Erased in {result['seconds']:.1f} s", state="complete"):
        for line in result["log"]:
            st.write(line)
    download_col, keep_col = st.columns(2)
    download_col.download_button(
        "Download",
        data=result["data"],
        file_name=result["file_name"],
        mime=result["mime"],
        on_click="ignore",
        type="primary",
        icon=":material/download:",
        width="stretch",
    )
    keep_col.button(
        "Keep erasing",
        on_click=keep_erasing,
        help="Make the result the new photo and remove something else.",
        width="stretch",
    )


init_state()
backend_sidebar()

st.title("Eraser")
st.write("Remove unwanted objects from a photo: upload it, paint over what should go, press **Erase**.")
st.file_uploader("Photo (JPEG, PNG, BMP or WEBP)", type=PHOTO_TYPES, key="eraser_upload", on_change=on_upload)
if st.session_state.eraser_upload_error:
    st.error(st.session_state.eraser_upload_error)

photo_state = st.session_state.eraser_photo
if photo_state is not None:
    info_col, undo_col = st.columns([4, 1], vertical_alignment="center")
    width, height = photo_state["size"]
    info_col.caption(f"{photo_state['name']} · {width}×{height} px")
    undo_col.button(
        "Undo",
        on_click=undo,
        disabled=not st.session_state.eraser_history,
        help=f"Go back one step (up to {HISTORY_STEPS}).",
        width="stretch",
    )
    mask_and_erase(photo_state)
    if st.session_state.eraser_result is not None:
        show_result(photo_state, st.session_state.eraser_result)
