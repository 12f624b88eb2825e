"""The Erase page's canvas: zoom and pan, marks kept in the photo's own pixels, snap to object, and
the keep-out brush.

The canvas always has the same size on the page; a view is the rectangle of the photo it shows
(the whole photo, or a crop of it at 2x, 4x or one photo pixel per screen pixel). A drawing belongs
to one view and one kind of mark. Before the view or the tool changes, the drawing is mapped back
into the photo rectangle it was made on and OR-ed into a photo-size mask in the session (`commit`),
and the canvas starts empty on a background that shows every mark so far, tinted. Erase takes the
committed marks together with the drawing on the canvas.

The brush size is measured on a canvas as wide as a laptop's column (COLUMN_WIDTH screen pixels)
and scales with the canvas's width, so on a phone a stroke covers the same part of the view as on
a laptop; it stays the same on screen when zooming in, so there it covers fewer photo pixels.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
import streamlit as st
from PIL import Image
from streamlit.errors import StreamlitInvalidLayoutContextError

from eraser import Photo, mask_from_drawing
from eraser.editor import Edit
from eraser.errors import EraserError
from eraser.select import select_object
from ui.state import state

COLUMN_WIDTH = 704  # the page's column on a laptop: the brush size is measured on it
PREVIEW_QUALITIES = (85, 70, 50)
PREVIEW_BUDGET = 290_000  # JPEG bytes: under 400 KB once the canvas sends it as base64
# See-through, so the person sees what they cover; the tints of committed marks match.
COLORS = {"erase": (255, 40, 80), "keep": (40, 130, 255), "select": (255, 200, 0)}
OPACITY = 0.45
# Tool: (the canvas's drawing mode, the kind of mark it makes).
TOOLS = {
    "Brush": ("freedraw", "erase"),
    "Rectangle": ("rect", "erase"),
    "Select object": ("rect", "select"),
    "Keep out": ("freedraw", "keep"),
}
WHOLE = "Whole photo"
# Pan buttons: label, icon, and the move in halves of the view across and down.
PANS = (("Left", ":material/arrow_back:", -1, 0), ("Up", ":material/arrow_upward:", 0, -1),
        ("Down", ":material/arrow_downward:", 0, 1), ("Right", ":material/arrow_forward:", 1, 0))


def rgba(kind: str) -> str:
    red, green, blue = COLORS[kind]
    return f"rgba({red}, {green}, {blue}, {OPACITY})"


# --- Pictures for the canvas ---------------------------------------------------------------------


def fit(photo: Photo, rect: tuple[int, int, int, int], size: tuple[int, int]) -> np.ndarray:
    """The photo's pixels in `rect` (x0, y0, x1, y1) at `size`, transparency shown on white."""
    x0, y0, x1, y1 = rect
    how = cv2.INTER_AREA if size[0] < x1 - x0 else cv2.INTER_LINEAR  # area: a fair average, and fast
    pixels = cv2.resize(photo.pixels[y0:y1, x0:x1], size, interpolation=how)
    if photo.alpha is not None:  # JPEG has no transparency: show it on white, as viewers do
        alpha = cv2.resize(photo.alpha[y0:y1, x0:x1], size, interpolation=how)[..., None] / 255.0
        pixels = (pixels * alpha + 255.0 * (1 - alpha)).round().astype(np.uint8)
    return pixels


def jpeg(pixels: np.ndarray) -> bytes:
    """A JPEG for the browser, within the payload budget."""
    image = Image.fromarray(pixels)
    for quality in PREVIEW_QUALITIES:  # only fine noise all over needs the lower ones
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() <= PREVIEW_BUDGET:
            break
    return out.getvalue()


@st.cache_data(max_entries=8, ttl="30m", show_spinner=False)
def crop(step_key: str, rect: tuple[int, int, int, int], size: tuple[int, int], _photo: Photo) -> np.ndarray:
    """A view's pixels at the canvas's size: cached, so a stroke does not resize the photo again."""
    return fit(_photo, rect, size)


def tinted(pixels: np.ndarray, rect, size, marks: dict[str, np.ndarray | None]) -> np.ndarray:
    """The view's pixels with the committed marks in their colours."""
    x0, y0, x1, y1 = rect
    out = pixels.astype(np.float32)
    for kind, mask in marks.items():
        if mask is None:
            continue
        # Area: a mark thinner than a screen pixel still shows, fainter. In bytes: 8 times less
        # to average than floats, on a 12 MP photo.
        cover = cv2.resize(mask[y0:y1, x0:x1].view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_AREA)
        cover = cover[..., None] * np.float32(OPACITY / 255)
        out = out * (1 - cover) + np.array(COLORS[kind], np.float32) * cover
    return out.round().astype(np.uint8)


def background(edit: Edit, photo: Callable[[], Photo], whole: bytes, size: tuple[int, int], rect) -> bytes:
    """The view with the marks so far, for the canvas. Marks change only with a new canvas, so
    the picture is made once per canvas, not at every stroke."""
    marks = {"erase": state.marks, "keep": state.keep}
    if rect == (0, 0, *edit.size) and all(mask is None for mask in marks.values()):
        return whole
    made_for = (edit.current.key, rect, size, state.canvas)
    if state.background is not None and state.background[0] == made_for:
        return state.background[1]
    picture = jpeg(tinted(crop(edit.current.key, rect, size, photo()), rect, size, marks))
    state.background = (made_for, picture)
    return picture


# --- Views ---------------------------------------------------------------------------------------


def zooms(photo_size: tuple[int, int], size: tuple[int, int]) -> dict[str, float]:
    """The zooms offered, as how many times the whole photo's scale: up to one photo pixel per
    screen pixel (a photo no larger than the canvas is already there)."""
    full = photo_size[0] / size[0]  # 1:1, relative to the whole photo on this canvas
    offered = {WHOLE: 1.0}
    offered.update({label: zoom for label, zoom in (("2x", 2.0), ("4x", 4.0)) if zoom < full})
    if full > 1:
        offered["1:1"] = full
    return offered


def view_of(edit: Edit) -> dict:
    """The view on this photo: the whole photo after an upload."""
    view = state.view
    if view is None or view["photo"] != edit.original.key:
        view = state.view = {"photo": edit.original.key, "zoom": WHOLE, "x": 0.5, "y": 0.5}
    return view


def rect_of(view: dict, photo_size: tuple[int, int], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The photo rectangle (x0, y0, x1, y1) a view shows, centred where it can be."""
    width, height = photo_size
    zoom = zooms(photo_size, size).get(view["zoom"], 1.0)
    if zoom == 1.0:
        return 0, 0, width, height
    crop_w, crop_h = min(width, round(width / zoom)), min(height, round(height / zoom))
    x0 = min(max(0, round(view["x"] * width - crop_w / 2)), width - crop_w)
    y0 = min(max(0, round(view["y"] * height - crop_h / 2)), height - crop_h)
    return x0, y0, x0 + crop_w, y0 + crop_h


def zoom_to(photo_size, size) -> None:
    commit()
    view = state.view
    view["zoom"] = st.session_state.eraser_zoom_input
    settle(view, photo_size, size)


def pan(across: int, down: int, photo_size, size) -> None:
    """Move by half the view, and no further than the photo's edge."""
    commit()
    view = state.view
    x0, y0, x1, y1 = rect_of(view, photo_size, size)
    view["x"] = (x0 + x1 + across * (x1 - x0)) / 2 / photo_size[0]
    view["y"] = (y0 + y1 + down * (y1 - y0)) / 2 / photo_size[1]
    settle(view, photo_size, size)


def settle(view: dict, photo_size, size) -> None:
    """Keep the centre the view really has, so the next move starts from what is shown."""
    x0, y0, x1, y1 = rect_of(view, photo_size, size)
    view["x"], view["y"] = (x0 + x1) / 2 / photo_size[0], (y0 + y1) / 2 / photo_size[1]


def view_controls(edit: Edit, size: tuple[int, int], disabled: bool) -> None:
    """Zoom and pan buttons (buttons, so a phone's one finger stays for painting)."""
    offered = zooms(edit.size, size)
    if len(offered) == 1:
        return  # the whole photo already shows every pixel
    view = view_of(edit)
    if view["zoom"] not in offered:
        view["zoom"] = WHOLE
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom", key="eraser_view_row")
    st.session_state.eraser_zoom_input = view["zoom"]  # the widget shows the kept view
    row.selectbox("Zoom", list(offered), key="eraser_zoom_input", on_change=zoom_to, args=(edit.size, size),
                  disabled=disabled, width=140, help="1:1 shows one photo pixel per screen pixel.")
    x0, y0, x1, y1 = rect_of(view, edit.size, size)
    width, height = edit.size
    can = {"Left": x0 > 0, "Right": x1 < width, "Up": y0 > 0, "Down": y1 < height}
    for label, icon, across, down in PANS:
        row.button(label, icon=icon, on_click=pan, args=(across, down, edit.size, size),
                   disabled=disabled or not can[label], key=f"eraser_pan_{label.lower()}")


# --- Marks ---------------------------------------------------------------------------------------


def painted(drawing: np.ndarray, rect, photo_size: tuple[int, int]) -> np.ndarray:
    """A view's drawing (RGBA at the canvas's size) as a photo-size mask, inside the view's rectangle."""
    x0, y0, x1, y1 = rect
    mask = np.zeros((photo_size[1], photo_size[0]), bool)
    mask[y0:y1, x0:x1] = mask_from_drawing(drawing, (x1 - x0, y1 - y0))
    return mask


def add(name: str, mask: np.ndarray) -> None:
    kept = getattr(state, name)
    setattr(state, name, mask if kept is None else kept | mask)


def commit() -> None:
    """Fold the canvas's drawing into the photo-size marks and start an empty canvas: before the
    view or the tool changes, so what was painted stays where it was painted."""
    saved = state.drawing
    if saved is not None and saved.get("view") is not None and saved["png"] is not None:
        rect, photo_size, kind = saved["view"]
        drawn = painted(np.asarray(Image.open(io.BytesIO(saved["png"]))), rect, photo_size)
        if drawn.any():
            add("keep" if kind == "keep" else "marks", drawn)
    state.canvas += 1
    state.drawing = None


def forget() -> None:
    """No marks and an empty canvas: after an erase, undo, redo, clear or upload."""
    state.canvas += 1
    state.drawing = None
    state.marks = None
    state.keep = None


@dataclass
class Marks:
    """What is marked: the committed marks and the drawing on the canvas, in the photo's pixels."""

    photo_size: tuple[int, int]
    rect: tuple[int, int, int, int]
    kind: str
    drawing: np.ndarray | None
    _erase: np.ndarray | None = field(default=None, init=False, repr=False)

    def _mask(self, name: str, kind: str) -> np.ndarray | None:
        kept = getattr(state, name)
        if self.drawing is None or self.kind != kind:
            return kept
        drawn = painted(self.drawing, self.rect, self.photo_size)
        return drawn if kept is None else kept | drawn

    @property
    def any(self) -> bool:
        """Something to erase (cheap: no photo-size mask is built for it)."""
        drawn = self.drawing is not None and self.kind == "erase" and bool(self.drawing[..., 3].any())
        return drawn or (state.marks is not None and bool(state.marks.any()))

    def erase(self) -> np.ndarray:
        """The photo-size mask to erase: built once per run (at 12 MP, 0.04 s), though the fill
        started ahead, Erase and the thin-line warning each ask for it."""
        if self._erase is None:
            mask = self._mask("marks", "erase")
            self._erase = np.zeros((self.photo_size[1], self.photo_size[0]), bool) if mask is None else mask
        return self._erase

    def keep_out(self) -> np.ndarray | None:
        mask = self._mask("keep", "keep")
        return mask if mask is not None and mask.any() else None


def rerun() -> None:
    """Draw the editor again: only it after a click in it (the usual case), else the whole page."""
    try:
        st.rerun(scope="fragment")
    except StreamlitInvalidLayoutContextError:  # a full run, as AppTest makes
        st.rerun()


def select(photo: Photo, box_drawing: np.ndarray, rect) -> None:
    """The object in the drawn box becomes marked, or the library says why not; then an empty canvas."""
    box = painted(box_drawing, rect, photo.size)
    rows, cols = np.nonzero(box)
    try:
        with st.spinner("Finding the object…"):
            # A box thinner than a photo pixel at this view selects the pixel it covers.
            found = select_object(photo.pixels, box=(int(cols.min()), int(rows.min()),
                                                     int(cols.max()) + 1, int(rows.max()) + 1)
                                  if rows.size else None)
    except EraserError as error:
        state.failure = {"message": str(error), "remote": False}
    else:
        add("marks", found)
        state.failure = None
    state.canvas += 1
    state.drawing = None
    rerun()


def draw(edit: Edit, photo: Callable[[], Photo], whole: bytes, size: tuple[int, int], tool: str, brush: int) -> Marks:
    """The canvas on the current view of the photo, and what is marked.

    `photo()` gives the current photo, decoded only when a view or a selection needs its pixels;
    `whole` is the whole photo's picture at the canvas's `size`. Leaving the page (or comparing)
    forgets the canvas's own state, so the last drawing is kept here and handed to a new canvas as
    its starting drawing when the person comes back."""
    mode, kind = TOOLS[tool]
    view = view_of(edit)
    rect = rect_of(view, edit.size, size)
    width, height = size
    picture = background(edit, photo, whole, size, rect)

    # Imported here, at each run: it is importable only inside a running Streamlit app (it declares
    # a Components v2 component), and tests put a stand-in in its place.
    from streamlit_drawable_canvas import st_canvas

    key = f"eraser_canvas_{state.canvas}_{width}x{height}"
    saved = state.drawing
    if saved is not None and saved["key"] == key and key not in st.session_state:
        state.canvas += 1
        key = f"eraser_canvas_{state.canvas}_{width}x{height}"
        saved.update(key=key, start=saved["json"])
    start = saved["start"] if saved is not None and saved["key"] == key else None
    canvas = st_canvas(
        fill_color=rgba(kind),
        stroke_color=rgba(kind),
        # A thick border would grow the rectangle; the brush is measured on a canvas as wide as a
        # laptop's column, and scales with this canvas's width.
        stroke_width=max(1, round(brush * width / COLUMN_WIDTH)) if mode == "freedraw" else 1,
        background_image=picture,
        width=width,
        height=height,
        drawing_mode=mode,
        initial_drawing=start,
        return_image_data=True,
        key=key,
    )
    drawing = canvas.image_data  # decoded from the browser's PNG on each access: once
    if drawing is not None:
        if kind == "select" and drawing[..., 3].any():
            select(photo(), drawing, rect)
        state.drawing = {"key": key, "json": canvas.json_data, "png": canvas.image_bytes, "start": start,
                         "view": (rect, edit.size, kind)}
    elif start is not None:  # redrawn from the saved drawing, and not sent back by the browser yet
        drawing = np.asarray(Image.open(io.BytesIO(saved["png"])))
    return Marks(edit.size, rect, kind, drawing)
