"""The Erase page: upload a photo, paint what should go, erase, compare, download, keep going."""

import io
import os
import time

import streamlit as st
from PIL import Image
from streamlit.errors import StreamlitSecretNotFoundError

# Importable only inside a running Streamlit app (it declares a Components v2 component).
from streamlit_drawable_canvas import st_canvas

import eraser
from eraser import Photo, engines, load_mask, mask_from_drawing
from eraser.contract import DEFAULT_URL
from eraser.errors import EraserError
from eraser.images import EXTENSIONS
from eraser.remote import RemoteEraser
from eraser.remote.client import KEY_ENV, URL_ENV

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
PHOTO_TYPES = list(EXTENSIONS)


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


def setting(name: str) -> str:
    """A deployment setting: Streamlit secrets first, then the environment."""
    try:
        value = st.secrets.get(name)
    except StreamlitSecretNotFoundError:  # raised on any access when there is no secrets.toml
        value = None
    return str(value or os.environ.get(name, "")).strip()


def remote_access() -> tuple[str, str | None]:
    """(key, URL) for Remote. A URL typed in the page gets only a key typed in the page: the
    deployment's key must never go to an address a visitor chose."""
    if st.session_state.eraser_remote_url:
        return st.session_state.eraser_remote_key, st.session_state.eraser_remote_url
    return st.session_state.eraser_remote_key or setting(KEY_ENV), setting(URL_ENV) or None


def run_erase(photo: Photo, mask) -> tuple[Photo, str]:
    """The one place that calls a backend: the erased photo, and a note for the person or ''."""
    if st.session_state.eraser_backend == "Remote":
        key, url = remote_access()
        result = RemoteEraser(key, url).erase(photo, mask)  # an empty key is refused, never replaced
        return result.photo, result.note
    return eraser.erase(photo, mask, engine=st.session_state.eraser_engine), ""


def init_state() -> None:
    defaults = {
        "eraser_photo": None,  # {"data": file bytes, "name": original file name, "size": (w, h)}
        "eraser_history": [],  # earlier eraser_photo values, newest last, for Undo
        "eraser_result": None,  # {"data", "file_name", "mime", "log", "seconds"} of the last erase
        "eraser_upload_error": None,
        "eraser_canvas": 0,  # part of the canvas key: changing it gives an empty canvas
        "eraser_backend": "Local",
        "eraser_engine": engines.DEFAULT,
        "eraser_remote_url": "",  # for this session only; empty = the deployment's setting
        "eraser_remote_key": "",
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


def keep(kept: str) -> None:
    """Copy a widget's value to its plain key: a widget hidden in one run forgets its value,
    and a widget whose arguments change becomes a new one, losing the click that changed them."""
    st.session_state[kept] = st.session_state[f"{kept}_input"]


def kept_widget(widget, label: str, kept: str, *args, **kwargs):
    st.session_state[f"{kept}_input"] = st.session_state[kept]
    return widget(label, *args, key=f"{kept}_input", on_change=keep, args=(kept,), **kwargs)


def backend_sidebar() -> None:
    # The choices live under plain keys, so the About page can read them after the widgets are gone.
    with st.sidebar:
        kept_widget(st.radio, "Erase with", "eraser_backend", BACKENDS,
                    captions=["This server (private)", "An AILabTools-compatible API"])
        if st.session_state.eraser_backend == "Local":
            kept_widget(st.selectbox, "Engine", "eraser_engine", engines.names(),
                        help="auto: telea for thin strokes, patchmatch for objects.")
        else:
            remote_settings()


def remote_settings() -> None:
    """Endpoint and key for this session; empty means the deployment's settings."""
    kept_widget(st.text_input, "Service URL", "eraser_remote_url", placeholder=setting(URL_ENV) or DEFAULT_URL)
    deployment_key = bool(setting(KEY_ENV)) and not st.session_state.eraser_remote_url
    kept_widget(st.text_input, "API key", "eraser_remote_key", type="password",
                placeholder="set on the server" if deployment_key else "")
    if not remote_access()[0]:
        st.warning("Remote needs an API key for this service: enter one above"
                   + ("." if st.session_state.eraser_remote_url else ", or set AILAB_API_KEY in the app's secrets."))
    st.caption("Remote sends the photo and the mask to this service.")


def erase_now(photo_state: dict, mask, drawing) -> None:
    """Erase with visible steps; on success show the result, on failure keep everything as it was."""
    start = time.perf_counter()
    log: list[str] = []
    failure = None
    with st.status("Erasing…", expanded=True) as status:

        def step(text: str) -> None:
            log.append(f"{text} ({time.perf_counter() - start:.1f} s)")
            st.write(log[-1])

        try:
            photo = open_photo(photo_state["data"], photo_state["name"])
            if mask is None:
                mask = mask_from_drawing(drawing, photo.size)
            step("Mask ready")
            result, note = run_erase(photo, mask)
            step(f"Erased ({st.session_state.eraser_backend})")
            if note:
                step(note)
            data = result.encode()
            step(f"Saved as {photo.format}")
        except EraserError as error:
            status.update(label="Erase failed", state="error", expanded=False)
            failure = str(error)
    if failure:
        st.error(failure)  # outside the collapsed status box, so it is seen without a click
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
