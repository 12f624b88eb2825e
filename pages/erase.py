"""The Erase page, an editor: paint what should go, Erase, and the erased photo replaces the one
on the canvas; keep going, undo, redo, compare and download at any step. The editing state is
eraser.editor.Edit; this page only draws it."""

import base64
import os
import time

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from eraser import Photo, engines, load_mask
from eraser.backends import Local, Remote
from eraser.contract import DEFAULT_URL
from eraser.editor import Edit, Step
from eraser.engines.auto import thin
from eraser.errors import EraserError, RemoteError, StepDropped
from eraser.images import Glance, glance, mime_type, output_name
from eraser.remote.client import KEY_ENV, URL_ENV
from ui import ahead, asset, canvas, engine, reload, uploads
from ui.state import state

# The canvas fits the page's column (about 360 px on a phone) and at most this width and height;
# on a wide screen the tools stand beside it, so the whole editor fits a 1366 x 768 laptop.
COLUMN_WIDTH = canvas.COLUMN_WIDTH
MAX_HEIGHT = 360
TOOLS_WIDTH = 240
WIDE = COLUMN_WIDTH + TOOLS_WIDTH  # a column at least this wide has the tools beside the canvas
BACKENDS = ("Local", "Remote")
ENGINE_CHOICES = engines.labels()
LOST = ("The photo being edited could not be read back from this server's disk, so its steps are lost. "
        "Upload it again to go on.")

# Reports the column's width (the canvas is sized to it, so a phone shows the whole photo), and
# hides the canvas's hover toolbar: its Undo undoes strokes, and the page has one Undo, of erases.
# Original and erased photo stacked at the canvas's place and size; a slider uncovers one or the other.
layout_probe = st.components.v2.component("eraser.layout", js=asset("layout.js"), isolate_styles=False)
compare_view = st.components.v2.component("eraser.compare", js=asset("compare.js"), css=asset("compare.css"))


# Cached by content across sessions and reruns: a brush stroke must never re-decode the photo.
# A resource, not data: Photo's arrays are read-only, so sharing one object is safe and spares
# a 36 MB (12 MP) copy on every call. Keyed by the step's content id, not by its file: Streamlit
# would hash the whole file (megabytes) at every call.
@st.cache_resource(max_entries=2, ttl="30m", show_spinner=False)
def open_photo(step_key: str, name: str | None, _file: Step | bytes, _decoded: Photo | None = None) -> Photo:
    """The photo of a step (or of an upload's bytes). `_decoded`, an erase's result, is kept as
    the photo of its step, so the next erase starts at once (and without JPEG's second loss)."""
    return _decoded or Photo.open(_file if isinstance(_file, bytes) else _file.data, name)


@st.cache_data(max_entries=16, ttl="30m", show_spinner=False)
def preview(step_key: str, width: int, _step: Step, _name: str, _photo: Photo | None = None):
    """A JPEG of a step's photo at the canvas's size, and that size (see picture). Keyed by the
    step's content id; `_photo`, when given, spares decoding the file."""
    return picture(_photo or photo_of(_step, _name), width)


def picture(photo: Photo | Glance, width: int) -> tuple[bytes, tuple[int, int]]:
    """A JPEG of a photo (or of its first look) at the canvas's size, and that size: `width` wide
    at most (small photos are enlarged to it, so they can be painted), MAX_HEIGHT high at most."""
    scale = min(width / photo.size[0], MAX_HEIGHT / photo.size[1])
    size = (max(1, round(photo.size[0] * scale)), max(1, round(photo.size[1] * scale)))
    height, width = photo.pixels.shape[:2]  # a first look's pixels are fewer than the photo's
    return canvas.jpeg(canvas.fit(photo, (0, 0, width, height), size)), size


def on_canvas(edit: Edit) -> tuple[bytes, tuple[int, int]]:
    """The current photo's picture for the canvas: an upload's first look until the next new
    canvas. Everything else (Compare, the photo after Undo) shows the whole photo's picture, so
    sliding Compare changes nothing but what was erased."""
    first = state.first_look
    if first is not None and first[0] == (edit.current.key, canvas_width()):
        return first[1]
    return shown(edit.current)


def beside() -> bool:
    """Whether the tools stand beside the canvas (a wide screen) rather than below it."""
    return state.width >= WIDE


def canvas_width() -> int:
    return min(COLUMN_WIDTH, state.width - TOOLS_WIDTH - 32 if beside() else state.width)


def photo_of(step: Step, name: str | None) -> Photo:
    return open_photo(step.key, name, step)


def shown(step: Step, photo: Photo | None = None) -> tuple[bytes, tuple[int, int]]:
    edit = state.edit
    return preview(step.key, canvas_width(), step, edit.name, photo)


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
    if state.remote_url:
        return state.remote_key, state.remote_url
    return state.remote_key or setting(KEY_ENV), setting(URL_ENV) or None


def backend(fetch: bool = True):
    """The chosen backend, ready: Local's model fetched the first time with a progress bar (and
    PatchMatch in its place, said in each erase's note, when it cannot be had); with
    `fetch=False`, None rather than a download."""
    if state.backend == "Remote":
        key, url = remote_access()
        return Remote(key, url)  # an empty key is refused, never replaced
    # The erased photo's file is made after its canvas (settle): a JPEG's coefficients are read
    # then, not beside the fill, where the read took CPU from what the person waits for.
    return engine.ready(state.engine, read_ahead=False, fetch=fetch)


def new_canvas() -> None:
    """An empty canvas (strokes and marks gone) and no stale message: after an erase, undo, redo or
    clear. A message belongs to one moment: the next thing that works clears it."""
    canvas.forget()
    ahead.drop()
    state.first_look = None
    state.failure = None
    state.upload_error = None
    state.notice = None


def take_upload() -> None:
    """Open a newly chosen photo. Read in the page's run rather than in the uploader's on_change:
    a rerun the page asks for itself (the column's width arriving) can swallow that callback.
    The file is marked as taken last: every session-state access is a point where a rerun can
    stop this run, and a file marked before it is opened would then be ignored. Only then is
    Streamlit's copy let go (the Edit's store keeps the bytes)."""
    file = st.session_state.get("eraser_upload")  # the uploader widget's own value
    if file is None or file.file_id == state.upload_id:
        return  # nothing new: the person closed the file, or it is the photo being edited
    state.upload_error = None
    data = file.getvalue()
    width = canvas_width()
    try:
        # A JPEG's first look is decoded at about the canvas's scale, 4 times sooner than the
        # whole photo (opened_fully).
        seen = glance(data, (width, MAX_HEIGHT), file.name)
    except EraserError as error:
        state.upload_error = str(error)
    else:
        whole = isinstance(seen, Photo)  # not a first look: decoded whole already
        # A first look's photo is decoded whole in the run after the one that draws its canvas (the
        # canvas asks for a run once it is in the browser): in this run it would slow the browser
        # drawing the page. Until then, the work to come back to: the last photo opened whole.
        before = state.opening["before"] if state.opening else reload.work() if state.edit else None
        state.opening = None if whole else {"before": before, "drawn": False}
        state.edit = Edit(data, file.name, seen.size)
        if whole:
            open_photo(state.edit.original.key, file.name, data, seen)
        state.file = {"file_name": output_name(file.name, seen.format), "mime": mime_type(seen.format)}
        state.compare = False
        new_canvas()
        if not whole:
            state.first_look = ((state.edit.original.key, width), picture(seen, width))
        reload.start()
    state.upload_id = file.file_id
    uploads.release(file)


def opened_fully(edit: Edit) -> None:
    """After an upload, the whole photo, decoded once the browser has drawn its first look. Should
    it fail where the first look did not (its time or memory running out), the work from before
    the upload is back, with the reason."""
    opening, state.opening = state.opening, None
    try:
        photo_of(edit.original, edit.name)
    except EraserError as error:
        if opening["before"] is None:
            state.edit = None
            reload.forget()
        else:
            reload.put_back(opening["before"])
        state.upload_error = str(error)
        state.first_look = None
        st.rerun()  # the whole page: the uploader's message, and the editor as it was


def undo() -> None:
    step_to(state.edit.undo)


def redo() -> None:
    step_to(state.edit.redo)


def step_to(move) -> None:
    try:
        move()
    except StepDropped as dropped:  # made room for other visitors: the photo and drawing stay
        state.failure = {"message": str(dropped), "remote": False}
        return
    except EraserError as error:  # the last erase's file could not be made (see settle)
        failed(error)
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
        if state.backend == "Local":
            engine_choice()
        else:
            service_settings()


def engine_choice() -> None:
    """The one place that offers the Local engines, in a person's words."""
    # A model that could not be had is marked, until an erase with it works.
    shown = {name: label + (" — unavailable here" if name in state.unavailable else "")
             for name, label in ENGINE_CHOICES.items()}
    # Radio buttons, not a select box: the narrow sidebar cuts a select box's words off.
    kept_widget(st.radio, "Engine", "eraser_engine", list(shown), format_func=shown.get,
                help="Automatic fills objects with the fast learned model (downloaded once, 28 MB) and "
                     "thin lines instantly. Best quality is slower. Classic needs no download.")


def remote_missing() -> str:
    """Why Remote cannot erase yet, in a person's words; '' when it can."""
    if remote_access()[0]:
        return ""
    if state.remote_url:
        return "This service needs an API key: enter yours under Service in the sidebar."
    return ("The online service needs an API key: enter yours under Service in the sidebar, "
            "or choose Local.")


def service_settings() -> None:
    """Address and key for this session; empty means the ones this app was set up with."""
    st.subheader("Service")
    deployment_url = setting(URL_ENV)
    kept_widget(st.text_input, "Service address", "eraser_remote_url", placeholder=deployment_url or DEFAULT_URL,
                help="Leave empty to use the service this app was set up with.")
    deployment_key = bool(setting(KEY_ENV)) and not state.remote_url
    kept_widget(st.text_input, "API key", "eraser_remote_key", type="password",
                placeholder="set up by this app" if deployment_key else "")
    if not remote_access()[0]:
        st.warning("An API key is needed for this service: enter one above."
                   + ("" if state.remote_url else
                      " (Or ask whoever runs this app to set one up.)"))
    st.caption("The photo and the mask are sent to this service to be erased.")


def to_erase(mask, marks: canvas.Marks | None) -> tuple[np.ndarray, np.ndarray | None]:
    """What Erase erases: the mask file's `mask`, else the marks; and the keep-out marks."""
    return (marks.erase() if mask is None else mask), (marks.keep_out() if marks else None)


def erase_ahead(edit: Edit, mask: np.ndarray, keep_out: np.ndarray | None) -> None:
    """Start filling what is marked, for Erase to find done (ui/ahead.py); not when the engine
    would first download its model, whose progress belongs to the click."""
    eraser = backend(fetch=False)
    if eraser is not None:
        photo = photo_of(edit.current, edit.name)
        ahead.start(edit.current.key, (state.backend, state.engine), mask, keep_out, eraser, photo)


def erase_now(edit: Edit, mask: np.ndarray, keep_out: np.ndarray | None) -> bool:
    """Erase the current photo with visible progress, or take the fill made ahead for exactly
    this; a success becomes the next step."""
    start = time.perf_counter()
    # A spinner rather than st.status, which sleeps 0.05 s as it opens and again as it closes.
    with st.spinner("Erasing…", show_time=True):
        try:
            if made := ahead.take(edit.current.key, (state.backend, state.engine), mask, keep_out):
                eraser, result = made.eraser, made.future.result()
            else:
                eraser = backend()
                result = eraser.erase(photo_of(edit.current, edit.name), mask, keep_out=keep_out)
        except EraserError as error:
            state.failure = {"message": str(error), "remote": isinstance(error, RemoteError)}
            return False
    where = "Remote service" if state.backend == "Remote" else f"Local, {result.filled_by}"
    # The full-size file is made once the erased pixels are on their way to the canvas (settle,
    # in the next run): nobody waits for it to see the erase.
    step = edit.push(result.photo.encode, engine=where, note=result.note, seconds=time.perf_counter() - start)
    open_photo(step.key, edit.name, step, result.photo)  # the next erase starts from these pixels
    shown(step, result.photo)  # the canvas's picture, from the pixels at hand rather than the file
    new_canvas()
    state.erased_marks = (mask, keep_out)  # back on the canvas if the file cannot be made
    if isinstance(eraser, Local):
        if not eraser.fell_back:
            state.unavailable.discard(state.engine)  # it works (again)
        elif state.engine not in state.unavailable:  # said once, then marked in the engine list
            state.unavailable.add(state.engine)
            state.notice = result.note or None
    return True


def settle(edit: Edit) -> None:
    """Make the last erase's file, now that the canvas has its pixels, and store it; if it
    cannot be made, the photo before it is back, with the marks of that erase, and the reason."""
    try:
        edit.settle()
    except EraserError as error:
        failed(error)
        canvas.rerun()
    finally:
        state.erased_marks = None


def failed(error: EraserError) -> None:
    """An erase whose file could not be made: its marks come back, to erase again or change."""
    marks = state.erased_marks
    new_canvas()
    if marks is not None:
        state.marks, state.keep = marks
    state.failure = {"message": str(error), "remote": False}


def show_failure(failure: dict) -> None:
    st.error(failure["message"])
    if failure["remote"] and state.backend == "Remote":
        st.caption("The service could not erase this photo. Local erases it on this server instead.")
        if st.button("Switch to Local", icon=":material/computer:"):
            state.backend = "Local"
            state.failure = None
            st.rerun()  # the whole page, so the sidebar shows the change


@st.fragment
def editor(edit: Edit) -> None:
    """Actions, tools and the canvas: a stroke, an erase, Undo or Redo reruns only this part."""
    try:
        draw_editor(edit)
    except StepDropped:  # the current photo could not be read back from the steps' folder
        state.edit = None
        reload.forget()
        state.upload_error = LOST
        st.rerun()  # the whole page: the uploader and the message, without the editor


def draw_editor(edit: Edit) -> None:
    if state.opening is not None and state.opening["drawn"]:
        opened_fully(edit)  # before anything here can need its pixels
    generation = state.canvas
    comparing = state.compare and edit.erased
    # Filled after the canvas, whose drawing decides Erase; a container (unlike st.empty) keeps
    # showing its buttons while a stroke reruns this part, so the row does not flicker.
    actions = st.container(horizontal=True, gap="small", vertical_alignment="center", key="eraser_actions")
    status_slot = st.container()
    # As tall as the canvas: after an erase, the old canvas can hold its place for a moment
    # while the new one is drawn, and the page below must not jump down and back meanwhile.
    canvas_size = on_canvas(edit)[1]
    canvas_height = None if comparing else canvas_size[1]
    # The tools beside the canvas on a wide screen; after it (the photo first) on a phone.
    row = st.container(horizontal=beside(), gap="medium")
    canvas_slot = row.container(height=canvas_height or "content", border=False,
                                width=canvas_size[0] if beside() else "stretch")
    tools = row.container(width=TOOLS_WIDTH if beside() else "stretch", key="eraser_tools",
                          horizontal=not beside(), gap="small", vertical_alignment="bottom")
    tool = tools.segmented_control("Tool", list(canvas.TOOLS), default="Brush", key="eraser_tool",
                                   disabled=comparing, on_change=canvas.commit,
                                   help="Select object: draw a box around it. Keep out: mark what the fill "
                                        "must not copy from.")
    tool = tool or "Brush"
    brush = tools.slider("Brush size", 5, 120, 35, key="eraser_brush", width=220,
                         disabled=comparing or canvas.TOOLS[tool][0] != "freedraw")
    tools.button("Clear mask", on_click=new_canvas, disabled=comparing)
    canvas.view_controls(edit, canvas_size, disabled=comparing)

    marks = None
    with canvas_slot:
        if comparing:
            was, (width, height) = shown(edit.original)
            now, _ = shown(edit.current)
            compare_view(data={"was": data_url(was), "now": data_url(now), "width": width, "height": height},
                         key=f"eraser_compare_view_{edit.current.key}")
        else:
            marks = canvas.draw(edit, lambda: photo_of(edit.current, edit.name), *on_canvas(edit), tool, brush)
    marked = marks is not None and marks.any
    if state.opening is not None:  # the first look is on its way: the next run decodes the photo
        state.opening["drawn"] = True

    with tools.expander("Or use a mask file (white = erase)"):
        file = st.file_uploader("Mask file", key=f"eraser_mask_{generation}")  # refused in words below
    mask = None
    if file is not None:
        try:
            mask = mask_file(file.getvalue(), edit.size)
        except EraserError as error:
            st.error(str(error))
        else:
            marked = bool(mask.any())
            st.caption("Using the mask file instead of the drawing.")

    missing = remote_missing() if state.backend == "Remote" else ""
    clicked = actions.button("Erase", type="primary", key="eraser_erase", icon=":material/ink_eraser:",
                             disabled=comparing or not marked or bool(missing))
    actions.button("Undo erase", on_click=undo, disabled=not edit.can_undo, icon=":material/undo:",
                   help=f"Go back one erase (up to {edit.max_steps}).")
    actions.button("Redo erase", on_click=redo, disabled=not edit.can_redo, icon=":material/redo:")
    if marked and not clicked and not comparing and state.backend == "Local":
        erase_ahead(edit, *to_erase(mask, marks))  # after the button: the stroke's run shows Erase at once
    download_at = actions
    if edit.current.pending:  # said in Download's place, rather than the last photo's Download
        download_at = actions.empty()
        download_at.button("Download", disabled=True, icon=":material/download:", key="eraser_download_wait",
                           help="The full-size photo is being saved.")
    settle(edit)  # now that the canvas is on its way to the browser, and before Download needs the file
    # The file itself, not a function that makes it on click: Streamlit gives such a function a
    # new id at every rerun (each stroke), and a click still holding the last one fails.
    download_at.download_button("Download", data=edit.current.data, disabled=not edit.erased, on_click="ignore",
                                icon=":material/download:", **state.file)
    kept_widget(actions.toggle, "Compare", "eraser_compare", disabled=not edit.erased,
                help="See the original and the erased photo in the same place.")
    with status_slot:
        if clicked and erase_now(edit, *to_erase(mask, marks)):
            # The erased photo on a fresh canvas; the whole page when the engine list must
            # now mark a model that could not be had.
            st.rerun() if state.notice else canvas.rerun()
        if state.upload_error:  # here, so that the next erase, undo or redo (this part's rerun) clears it
            st.error(state.upload_error)
            st.info(f"Still editing **{edit.name}**: its steps and drawing are kept.")
        if state.notice:
            st.info(state.notice)
        if thin_lines_smear(marks):
            st.warning("Thin lines only is for scratches and wires: what is painted is wider and would be "
                       "smeared. Choose Automatic in the sidebar to erase objects.")
        if state.failure:
            show_failure(state.failure)
        elif missing:
            st.info(missing)
        else:
            st.caption(hint(edit, comparing, marked))
    reload.save()  # after every change this part makes, so a browser reload brings it back


def thin_lines_smear(marks: canvas.Marks | None) -> bool:
    """Whether the thin-line engine is chosen for marks wider than thin lines."""
    if state.backend != "Local" or state.engine != "telea" or marks is None or not marks.any:
        return False
    return not thin(marks.erase(), 1.0)


def hint(edit: Edit, comparing: bool, marked: bool) -> str:
    """One line above the canvas: what the last erase did, and what to do next."""
    step = edit.current
    # A step's note (a model that could not be had) is said once, above, rather than here.
    done = f"Erase {edit.erase_count} done in {step.seconds:.1f} s ({step.engine}). " if edit.erased else ""
    if comparing:
        return done + "Slide to compare with the original; switch Compare off to paint."
    if marked:
        return done + "Press **Erase** to remove what is painted."
    return done + "Paint over what should go (or upload a mask file), then press **Erase**."


def width_reported() -> None:
    """The column's width, as the browser reports it: kept before the page is drawn again, so the
    canvas gets it in that same run (a rerun asked for here could swallow an upload's)."""
    reported = st.session_state["eraser_layout"]["width"]
    if reported:
        state.width = int(reported)


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


state.init()
reload.restore()
backend_sidebar()

# Less empty space above the title, and a column wide enough for the tools beside the photo, so
# the whole editor fits a laptop's screen (a phone's screen keeps its own narrower column). When
# the header has something to show (on a phone, the button that opens the sidebar), it is opaque
# and 3.75 rem high: the title starts below it.
st.html("<style>[data-testid='stMainBlockContainer'] { padding-top: 1rem; max-width: 64rem; }"
        ".stApp:has([data-testid='stToolbar']) [data-testid='stMainBlockContainer'] { padding-top: 3rem; }</style>")
st.title("Eraser")
# Any file is accepted here and the library refuses what it cannot use, in a sentence: the
# uploader's own refusals (of a type, or of a size over maxUploadSize) are a red chip whose
# reason shows only on hover, and never on a phone.
st.file_uploader("Photo (JPEG, PNG, BMP or WEBP)", key="eraser_upload")
take_upload()
if state.upload_error and state.edit is None:  # while editing, said above the canvas (editor)
    st.error(state.upload_error)

edit = state.edit
if edit is None:
    st.write("Remove unwanted objects from a photo: upload it, paint over what should go, press **Erase**.")
else:
    editor(edit)

layout_probe(key="eraser_layout", data={"known": state.width, "most": 2 * WIDE}, on_width_change=width_reported)
