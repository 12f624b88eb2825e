"""The Erase page, an editor: paint what should go, Erase, and the erased photo replaces the one
on the canvas; keep going, undo, redo, compare and download at any step. The editing state is
eraser.editor.Edit; this page only draws it."""

import base64
import io
import os
import time

import cv2
import numpy as np
import streamlit as st
from PIL import Image
from streamlit.errors import StreamlitInvalidLayoutContextError, StreamlitSecretNotFoundError

# Importable only inside a running Streamlit app (it declares a Components v2 component).
from streamlit_drawable_canvas import st_canvas

import eraser
from eraser import Photo, engines, load_mask, mask_from_drawing
from eraser.contract import DEFAULT_URL
from eraser.editor import Edit, Step
from eraser.errors import EraserError, ModelError, RemoteError, StepDropped
from eraser.images import EXTENSIONS
from eraser.remote import RemoteEraser
from eraser.remote.client import KEY_ENV, URL_ENV

# The canvas fits the page's column (704 px on a laptop, about 360 on a phone) and this height.
COLUMN_WIDTH = 704
MAX_HEIGHT = 520
PREVIEW_QUALITIES = (85, 70, 50)
PREVIEW_BUDGET = 290_000  # JPEG bytes: under 400 KB once the canvas sends it as base64
MARK_COLOR = "rgba(255, 40, 80, 0.45)"  # see-through, so the person sees what they cover
TOOLS = {"Brush": "freedraw", "Rectangle": "rect"}
BACKENDS = ("Local", "Remote")
ENGINE_CHOICES = engines.labels()
PHOTO_TYPES = list(EXTENSIONS)

# Reports the column's width (the canvas is sized to it, so a phone shows the whole photo), and
# hides the canvas's hover toolbar: its Undo undoes strokes, and the page has one Undo, of erases.
LAYOUT_JS = """
export default function ({ parentElement, data, setStateValue }) {
  // Only a change is reported: each report reruns the page, and a rerun can swallow a click.
  const report = () => {
    const width = Math.min(Math.floor(parentElement.getBoundingClientRect().width), data.most);
    if (width > 0 && width !== data.known) setStateValue("width", width);
  };
  const observer = new ResizeObserver(report);
  observer.observe(parentElement);
  const hideToolbars = () => {
    for (const host of document.querySelectorAll('[class*="st-key-eraser_canvas"] *')) {
      const root = host.shadowRoot;
      if (root && !root.querySelector("style[data-eraser]")) {
        const style = document.createElement("style");
        style.dataset.eraser = "";
        style.textContent = ".dc-toolbar { display: none !important; }";
        root.appendChild(style);
      }
    }
  };
  const timer = setInterval(hideToolbars, 150);
  return () => { observer.disconnect(); clearInterval(timer); };
}
"""
# Original and erased photo stacked at the canvas's place and size; a slider uncovers one or the other.
COMPARE_JS = """
export default function ({ parentElement, data }) {
  parentElement.innerHTML = `<div class="cmp" style="width:${data.width}px;height:${data.height}px">
    <img class="now" alt="Erased"><img class="was" alt="Original">
    <span class="tag l">Original</span><span class="tag r">Erased</span></div>
    <input type="range" min="0" max="100" value="50" aria-label="Original and erased">`;
  const [now, was] = parentElement.querySelectorAll("img");
  const range = parentElement.querySelector("input");
  now.src = data.now;
  was.src = data.was;
  const show = () => { was.style.clipPath = `inset(0 ${100 - range.value}% 0 0)`; };
  range.addEventListener("input", show);
  show();
}
"""
COMPARE_CSS = """
.cmp { position: relative; max-width: 100%; touch-action: pan-y; }
.cmp img { position: absolute; inset: 0; width: 100%; height: 100%; }
.tag { position: absolute; top: 6px; padding: 1px 6px; border-radius: 4px; font: 12px sans-serif;
       background: rgba(0, 0, 0, 0.55); color: white; }
.l { left: 6px; } .r { right: 6px; }
input { display: block; width: 100%; max-width: 100%; margin: 8px 0 0; accent-color: var(--st-primary-color); }
"""
layout_probe = st.components.v2.component("eraser.layout", js=LAYOUT_JS, isolate_styles=False)
compare_view = st.components.v2.component("eraser.compare", js=COMPARE_JS, css=COMPARE_CSS)


# Cached by content across sessions and reruns: a brush stroke must never re-decode the photo.
# A resource, not data: Photo's arrays are read-only, so sharing one object is safe and spares
# a 36 MB (12 MP) copy on every call.
@st.cache_resource(max_entries=2, ttl="30m", show_spinner=False)
def open_photo(data: bytes, name: str | None, _decoded: Photo | None = None) -> Photo:
    """The photo in these bytes. `_decoded`, an erase's result, is kept as the photo of the
    file it was saved to, so the next erase starts at once (and without JPEG's second loss)."""
    return _decoded or Photo.open(data, name)


@st.cache_data(max_entries=16, ttl="30m", show_spinner=False)
def preview(step_key: str, width: int, _data: bytes, _name: str, _photo: Photo | None = None):
    """A JPEG of a step's photo at the canvas's size, and that size: `width` wide at most (small
    photos are enlarged to it, so they can be painted), MAX_HEIGHT high at most. Keyed by the
    step's content id; `_photo`, when given, spares decoding the file."""
    photo = _photo or open_photo(_data, _name)
    scale = min(width / photo.size[0], MAX_HEIGHT / photo.size[1])
    size = (max(1, round(photo.size[0] * scale)), max(1, round(photo.size[1] * scale)))
    how = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR  # area: a fair average, and fast
    pixels = cv2.resize(photo.pixels, size, interpolation=how)
    if photo.alpha is not None:  # JPEG has no transparency: show it on white, as viewers do
        alpha = cv2.resize(photo.alpha, size, interpolation=how)[..., None] / 255.0
        pixels = (pixels * alpha + 255.0 * (1 - alpha)).round().astype(np.uint8)
    image = Image.fromarray(pixels)
    for quality in PREVIEW_QUALITIES:  # only fine noise all over needs the lower ones
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= PREVIEW_BUDGET:
            break
    return out.getvalue(), size


def shown(step: Step, photo: Photo | None = None) -> tuple[bytes, tuple[int, int]]:
    edit = st.session_state.eraser_edit
    return preview(step.key, st.session_state.eraser_width, step.data, edit.name, photo)


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


def engine_label(result: Photo) -> str:
    """Who filled the photo, recorded with each step (About lists them)."""
    if st.session_state.eraser_backend == "Remote":
        return "Remote service"
    return f"Local, {result.filled_by}"


def local_engine(status) -> tuple[engines.Engine, str]:
    """The chosen engine, its model fetched the first time with a progress bar; PatchMatch,
    and a note saying why, when the model cannot be had."""
    bar, shown = None, -1

    def progress(done: int, total: int) -> None:
        nonlocal bar, shown
        if bar is None:
            status.update(label="Downloading the model (once)…", expanded=True)
            bar = st.progress(0.0)
        if (percent := 100 * done // total) != shown:  # one message per percent, not per chunk
            shown = percent
            bar.progress(percent / 100, text=f"Downloading the model: {done / 1e6:.0f} of {total / 1e6:.0f} MB")

    try:
        engine = engines.get(st.session_state.eraser_engine).load(progress)
    except ModelError as error:
        return engines.get("patchmatch"), f"{error} Erased with PatchMatch instead."
    finally:
        if bar is not None:
            bar.empty()
            status.update(label="Erasing…", expanded=False)
    if getattr(engine, "note", ""):  # auto without MI-GAN: the reason is for whoever runs the app
        return engine, "The learned model is not available on this server, so PatchMatch filled the object."
    return engine, ""


def run_erase(photo: Photo, mask, status) -> tuple[Photo, str]:
    """The one place that calls a backend: the erased photo, and a note for the person or ''."""
    if st.session_state.eraser_backend == "Remote":
        key, url = remote_access()
        result = RemoteEraser(key, url).erase(photo, mask)  # an empty key is refused, never replaced
        return result.photo, result.note
    engine, note = local_engine(status)
    result = eraser.erase(photo, mask, engine=engine)
    # auto's note (no MI-GAN) matters only when PatchMatch really filled an object
    return result, note if "PatchMatch" in result.filled_by else ""


def init_state() -> None:
    defaults = {
        "eraser_edit": None,  # eraser.editor.Edit of the photo being edited
        "eraser_file": None,  # {"file_name", "mime"} of its download
        "eraser_upload_error": None,
        "eraser_failure": None,  # {"message", "remote"} of the last failed erase, until the next change
        "eraser_canvas": 0,  # part of the canvas key: changing it gives an empty canvas
        "eraser_drawing": None,  # the last drawing {"key", "json", "png", "start"}: redrawn after About
        "eraser_width": COLUMN_WIDTH,  # the column's width, as the browser last reported it
        "eraser_compare": False,
        "eraser_backend": "Local",
        "eraser_engine": engines.DEFAULT,
        "eraser_remote_url": "",  # for this session only; empty = the deployment's setting
        "eraser_remote_key": "",
    }
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def new_canvas() -> None:
    """An empty canvas (strokes gone) and no stale failure: after an erase, undo, redo or clear."""
    st.session_state.eraser_canvas += 1
    st.session_state.eraser_drawing = None
    st.session_state.eraser_failure = None


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
    st.session_state.eraser_edit = Edit(data, file.name, photo.size)
    st.session_state.eraser_file = {"file_name": photo.output_name(), "mime": photo.mime_type()}
    st.session_state.eraser_compare = False
    new_canvas()


def undo() -> None:
    step_to(st.session_state.eraser_edit.undo)


def redo() -> None:
    step_to(st.session_state.eraser_edit.redo)


def step_to(move) -> None:
    try:
        move()
    except StepDropped as dropped:  # made room for other visitors: the photo and drawing stay
        st.session_state.eraser_failure = {"message": str(dropped), "remote": False}
        return
    new_canvas()


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
                    captions=["This server (private)", "An online erase service"])
        if st.session_state.eraser_backend == "Local":
            engine_choice()
        else:
            service_settings()


def engine_choice() -> None:
    """The one place that offers the Local engines, in a person's words."""
    kept_widget(st.selectbox, "Engine", "eraser_engine", list(ENGINE_CHOICES), format_func=ENGINE_CHOICES.get,
                help="Automatic fills objects with the fast learned model (downloaded once, 28 MB) and "
                     "thin lines instantly. Best quality is slower. Classic needs no download.")


def remote_missing() -> str:
    """Why Remote cannot erase yet, in a person's words; '' when it can."""
    if remote_access()[0]:
        return ""
    if st.session_state.eraser_remote_url:
        return "This service needs an API key: enter yours under Service in the sidebar."
    return ("The online service needs an API key: enter yours under Service in the sidebar, "
            "or choose Local.")


def service_settings() -> None:
    """Address and key for this session; empty means the ones this app was set up with."""
    st.subheader("Service")
    deployment_url = setting(URL_ENV)
    kept_widget(st.text_input, "Service address", "eraser_remote_url", placeholder=deployment_url or DEFAULT_URL,
                help="Leave empty to use the service this app was set up with.")
    deployment_key = bool(setting(KEY_ENV)) and not st.session_state.eraser_remote_url
    kept_widget(st.text_input, "API key", "eraser_remote_key", type="password",
                placeholder="set up by this app" if deployment_key else "")
    if not remote_access()[0]:
        st.warning("An API key is needed for this service: enter one above."
                   + ("" if st.session_state.eraser_remote_url else
                      " (Or ask whoever runs this app to set one up.)"))
    st.caption("The photo and the mask are sent to this service to be erased.")


def erase_now(edit: Edit, mask, drawing) -> bool:
    """Erase the current photo with visible progress; a success becomes the next step."""
    start = time.perf_counter()
    failure = None
    with st.status("Erasing…", expanded=False) as status:
        try:
            photo = open_photo(edit.current.data, edit.name)
            if mask is None:
                mask = mask_from_drawing(drawing, photo.size)
            result, note = run_erase(photo, mask, status)
            data = result.encode()
        except EraserError as error:
            status.update(label="Erase failed", state="error")
            failure = {"message": str(error), "remote": isinstance(error, RemoteError)}
    if failure:
        st.session_state.eraser_failure = failure
        return False
    step = edit.push(data, engine=engine_label(result), note=note, seconds=time.perf_counter() - start)
    open_photo(step.data, edit.name, result)  # the next erase starts from these pixels
    shown(step, result)  # the canvas's picture, from the pixels at hand rather than the file
    new_canvas()
    return True


def rerun_editor() -> None:
    """Draw the editor again: only it after a click in it (the usual case), else the whole page."""
    try:
        st.rerun(scope="fragment")
    except StreamlitInvalidLayoutContextError:  # a full run, as AppTest makes
        st.rerun()


def show_failure(failure: dict) -> None:
    st.error(failure["message"])
    if failure["remote"] and st.session_state.eraser_backend == "Remote":
        st.caption("The service could not erase this photo. Local erases it on this server instead.")
        if st.button("Switch to Local", icon=":material/computer:"):
            st.session_state.eraser_backend = "Local"
            st.session_state.eraser_failure = None
            st.rerun()  # the whole page, so the sidebar shows the change


def draw_canvas(edit: Edit, tool: str, brush: int):
    """The canvas on the current photo, and the drawing on it (RGBA at the canvas's size) or None.

    Leaving the page (or comparing) forgets the canvas's own state, so the last drawing is kept
    here and handed to a new canvas as its starting drawing when the person comes back."""
    background, (width, height) = shown(edit.current)
    key = f"eraser_canvas_{st.session_state.eraser_canvas}_{width}x{height}"
    saved = st.session_state.eraser_drawing
    if saved is not None and saved["key"] == key and key not in st.session_state:
        st.session_state.eraser_canvas += 1
        key = f"eraser_canvas_{st.session_state.eraser_canvas}_{width}x{height}"
        saved.update(key=key, start=saved["json"])
    start = saved["start"] if saved is not None and saved["key"] == key else None
    canvas = st_canvas(
        fill_color=MARK_COLOR,
        stroke_color=MARK_COLOR,
        stroke_width=brush if tool == "Brush" else 1,  # a thick border would grow the rectangle
        background_image=background,
        width=width,
        height=height,
        drawing_mode=TOOLS[tool],
        initial_drawing=start,
        return_image_data=True,
        key=key,
    )
    drawing = canvas.image_data  # decoded from the browser's PNG on each access: once
    if drawing is not None:
        st.session_state.eraser_drawing = {"key": key, "json": canvas.json_data, "png": canvas.image_bytes,
                                           "start": start}
        return drawing
    if start is not None:  # redrawn from the saved drawing, and not sent back by the browser yet
        return np.asarray(Image.open(io.BytesIO(saved["png"])))
    return None


@st.fragment
def editor(edit: Edit) -> None:
    """Actions, tools and the canvas: a stroke, an erase, Undo or Redo reruns only this part."""
    generation = st.session_state.eraser_canvas
    comparing = st.session_state.eraser_compare and edit.erased
    # Filled after the canvas, whose drawing decides Erase; a container (unlike st.empty) keeps
    # showing its buttons while a stroke reruns this part, so the row does not flicker.
    actions = st.container(horizontal=True, gap="small", vertical_alignment="center", key="eraser_actions")
    status_slot = st.container()
    # As tall as the canvas: after an erase, the old canvas can hold its place for a moment
    # while the new one is drawn, and the page below must not jump down and back meanwhile.
    canvas_height = None if comparing else shown(edit.current)[1][1]
    canvas_slot = st.container(height=canvas_height or "content", border=False)
    # Below the canvas, so that on a phone the photo comes first; the canvas needs their values.
    tools = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    tool = tools.segmented_control("Tool", list(TOOLS), default="Brush", key="eraser_tool", disabled=comparing)
    tool = tool or "Brush"
    brush = tools.slider("Brush size", 5, 120, 35, key="eraser_brush", disabled=comparing or tool != "Brush",
                         width=220)
    tools.button("Clear mask", on_click=new_canvas, disabled=comparing)

    drawing = None
    with canvas_slot:
        if comparing:
            was, (width, height) = shown(edit.original)
            now, _ = shown(edit.current)
            compare_view(data={"was": data_url(was), "now": data_url(now), "width": width, "height": height},
                         key=f"eraser_compare_view_{edit.current.key}")
        else:
            drawing = draw_canvas(edit, tool, brush)
    marked = drawing is not None and bool(drawing[..., 3].any())

    with st.expander("Or use a mask file (white = erase)"):
        file = st.file_uploader("Mask file", type=PHOTO_TYPES, key=f"eraser_mask_{generation}")
    mask = None
    if file is not None:
        try:
            mask = mask_file(file.getvalue(), edit.size)
        except EraserError as error:
            st.error(str(error))
        else:
            marked = bool(mask.any())
            st.caption("Using the mask file instead of the drawing.")

    missing = remote_missing() if st.session_state.eraser_backend == "Remote" else ""
    with actions:
        clicked = st.button("Erase", type="primary", key="eraser_erase", icon=":material/ink_eraser:",
                            disabled=comparing or not marked or bool(missing))
        st.button("Undo erase", on_click=undo, disabled=not edit.can_undo, icon=":material/undo:",
                  help=f"Go back one erase (up to {edit.max_steps}).")
        st.button("Redo erase", on_click=redo, disabled=not edit.can_redo, icon=":material/redo:")
        st.download_button("Download", data=edit.current.data, disabled=not edit.erased, on_click="ignore",
                           icon=":material/download:", **st.session_state.eraser_file)
        kept_widget(st.toggle, "Compare", "eraser_compare", disabled=not edit.erased,
                    help="See the original and the erased photo in the same place.")
    with status_slot:
        if clicked and erase_now(edit, mask, drawing):
            rerun_editor()  # the erased photo on a fresh canvas
        if st.session_state.eraser_failure:
            show_failure(st.session_state.eraser_failure)
        elif missing:
            st.info(missing)
        else:
            st.caption(hint(edit, comparing, marked))


def hint(edit: Edit, comparing: bool, marked: bool) -> str:
    """One line above the canvas: what the last erase did, and what to do next."""
    step = edit.current
    done = (f"Erase {edit.erase_count} done in {step.seconds:.1f} s ({step.engine}). {step.note} ".replace("  ", " ")
            if edit.erased else "")
    if comparing:
        return done + "Slide to compare the original with the erased photo; switch Compare off to paint."
    if marked:
        return done + "Press **Erase** to remove what is painted."
    return done + "Paint over what should go (or upload a mask file), then press **Erase**."


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


init_state()
backend_sidebar()

# Less empty space above the title, so the photo and its buttons fit a laptop's screen.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 2.5rem; }</style>")
st.title("Eraser")
st.file_uploader("Photo (JPEG, PNG, BMP or WEBP)", type=PHOTO_TYPES, key="eraser_upload", on_change=on_upload)
if st.session_state.eraser_upload_error:
    st.error(st.session_state.eraser_upload_error)

edit = st.session_state.eraser_edit
if edit is None:
    st.write("Remove unwanted objects from a photo: upload it, paint over what should go, press **Erase**.")
else:
    editor(edit)

reported = layout_probe(key="eraser_layout", data={"known": st.session_state.eraser_width, "most": COLUMN_WIDTH},
                        on_width_change=lambda: None).width
if reported and reported != st.session_state.eraser_width:
    st.session_state.eraser_width = reported
    st.rerun()  # a phone: draw the canvas again at the width it has
