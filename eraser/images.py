"""Photos in and out: decode bytes safely, normalise pixels, encode the result."""

from __future__ import annotations

import bisect
import dataclasses
import io
import math
import struct
import time
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import PurePath

import cv2
import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from . import jpeg, jpeg_markers
from .errors import EraserError, ImageError

# 40 megapixels covers full-size photos from current cameras and phones while keeping one
# RGB copy at about 120 MB: the app's host has well under 1 GB for everything.
MAX_PIXELS = 40_000_000
MAX_FILE_BYTES = 50 * 1024 * 1024
# A 40 MP photo decodes in about a second here; anything still decoding after this is hostile
# or broken, and must not hold a worker.
DECODE_SECONDS = 15.0
# The most EXIF (with its "Exif\0\0" prefix) Pillow writes into a JPEG's 64 KB APP1 segment.
MAX_JPEG_EXIF = 65_533
# Below this on a side there is nothing a person could paint over.
MIN_SIDE = 16
# PNGs are compressed by OpenCV's libpng with its fast filters (none, sub, up) at zlib level 2: a
# 12 MP photo in about half the CPU time of Pillow at level 3, which tries four filters on every
# row, for 6% more bytes (docs/benchmarks.md, "Command line").
_PNG_OPTIONS = [cv2.IMWRITE_PNG_COMPRESSION, 2, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FAST_FILTERS]
_PNG_HEADER = 33  # the signature and the IHDR chunk, which every PNG starts with

# format name -> (file extension, MIME type)
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "BMP": ("bmp", "image/bmp"),
    "WEBP": ("webp", "image/webp"),
}
# file extension -> format name
EXTENSIONS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "bmp": "BMP", "webp": "WEBP"}
ACCEPTED = "JPEG, PNG, BMP or WEBP"

# What a refused file most likely is, so the message can say so.
_SIGNATURES = [
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or office document"),
    (b"\x00\x00\x01\x00", "an icon (ICO) file"),
    (b"8BPS", "a Photoshop (PSD) file"),
]

_ORIENTATION = 0x0112


def looks_accepted(data: bytes) -> bool:
    """Whether the bytes start like one of the accepted formats (so a failure means damage)."""
    return (
        data.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM"))
        or (data.startswith(b"RIFF") and data[8:12] == b"WEBP")
    )


def format_from_name(filename: str) -> str:
    """The output format that a file name asks for, e.g. 'out.jpg' -> 'JPEG'."""
    ext = PurePath(filename).suffix.lower().lstrip(".")
    if ext not in EXTENSIONS:
        raise ImageError(
            f"Cannot write '{PurePath(filename).name}': "
            "choose a name ending in .jpg, .png, .bmp or .webp."
        )
    return EXTENSIONS[ext]


def _normalise_format(fmt: str) -> str:
    fmt = fmt.upper()
    fmt = "JPEG" if fmt == "JPG" else fmt
    if fmt not in FORMATS:
        raise ImageError(f"Cannot write {fmt} files: choose {ACCEPTED}.")
    return fmt


def _describe(data: bytes) -> str:
    head = data[:64].lstrip()
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypavif"):
        return "a HEIC/AVIF image"
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:2048]):
        return "an SVG drawing"
    try:
        data[:4096].decode("utf-8")
        return "a text file"
    except UnicodeDecodeError:
        return "not an image this app can read"


class _DecodeTimeout(Exception):
    pass


class _Deadline(io.BytesIO):
    """The file's bytes, read by Pillow's decoder block by block: past the deadline, stop.

    A read never goes past the next of `stops`: libjpeg's arithmetic decoder cannot pause
    inside a scan (it fails with "broken data stream" when its input runs out there), so an
    arithmetic-coded JPEG is handed over a whole scan at a time, the deadline checked between
    scans."""

    def __init__(self, data: bytes, seconds: float):
        super().__init__(data)
        self.deadline = time.monotonic() + seconds
        self.stops: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        if time.monotonic() > self.deadline:
            raise _DecodeTimeout
        here, size = self.tell(), -1 if size is None else size
        later = bisect.bisect_right(self.stops, here)
        if later < len(self.stops) and (size < 0 or here + size > self.stops[later]):
            size = self.stops[later] - here
        return super().read(size)


def decode(data: bytes, noun: str = "photo", error: type[EraserError] = ImageError) -> Image.Image:
    """Open image bytes by content, refuse bombs before decoding pixels, load and orient them."""
    return _decode(data, noun, error)[0]


def _decode(data: bytes, noun: str, error: type[EraserError],
            fits: tuple[int, int] | None = None) -> tuple[Image.Image, int, tuple[int, int]]:
    """The loaded, upright image, the EXIF orientation it was stored with, and its upright size.
    `fits` (width, height): a JPEG is decoded at the smallest of libjpeg's scales (1/2, 1/4,
    1/8) still at least as large as the image fitted into it; every byte is read and checked
    all the same, so a damaged file is refused as by a whole decode."""
    if not data:
        raise error(f"The {noun} file is empty (0 bytes). Choose the file again.")
    if len(data) > MAX_FILE_BYTES:
        raise error(
            f"The {noun} file is {len(data) / 2**20:.0f} MB; the limit is "
            f"{MAX_FILE_BYTES // 2**20} MB. Save it smaller and try again."
        )
    # Pillow warns about odd metadata (thousands of lines for one bad EXIF block); the person
    # can do nothing with them, and what matters is refused below with a message.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = _open(data, noun, error)
        is_jpeg = image.format in ("JPEG", "MPO")
        scans = jpeg_markers.count_scans(data) if is_jpeg else 0
        if scans > jpeg_markers.MAX_SCANS:
            raise error(
                f"The {noun} is a JPEG of {scans:,} scans (photos have at most a few dozen), which "
                "would take minutes to decode. Save it again as a normal JPEG or a PNG and try again."
            )
        stored = image.size
        try:
            if fits and is_jpeg:  # a scale for either way up: the orientation is read on load
                scale = min(1.0, max(fits) / max(stored), min(fits) / min(stored))
                image.draft(image.mode, (math.ceil(stored[0] * scale), math.ceil(stored[1] * scale)))
            drafted = image.size
            arithmetic = is_jpeg and jpeg_markers.is_arithmetic(data)
            if isinstance(image.fp, _Deadline):
                image.fp.deadline = time.monotonic() + DECODE_SECONDS
                image.fp.stops = jpeg_markers.scan_ends(data) if arithmetic else []
            # Check the deadline every 8 KB of input, or every scan when they are arithmetic-coded.
            image.decodermaxblock = len(data) if arithmetic else 8192
            image.load()
            orientation = image.getexif().get(_ORIENTATION, 1)
            ImageOps.exif_transpose(image, in_place=True)
            turned = image.size != drafted
        except _DecodeTimeout:
            raise error(
                f"The {noun} took more than {DECODE_SECONDS:.0f} s to decode, so it was stopped. "
                "Save it again as a normal JPEG or PNG and try again."
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
            raise _damaged(noun, error) from exc
    return image, orientation if isinstance(orientation, int) else 1, stored[::-1] if turned else stored


def _open(data: bytes, noun: str, error: type[EraserError]) -> Image.Image:
    try:
        # Our own pixel cap below is stricter than Pillow's bomb threshold.
        image = Image.open(_Deadline(data, DECODE_SECONDS), formats=list(FORMATS))
    except Image.DecompressionBombError:
        image = None
    except _DecodeTimeout:
        raise _damaged(noun, error) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        if looks_accepted(data):
            raise _damaged(noun, error) from exc
        raise error(
            f"The {noun} is not a {ACCEPTED} image (it looks like {_describe(data)}). "
            f"Choose a {ACCEPTED} file."
        ) from exc
    if image is None or image.width * image.height > MAX_PIXELS:
        raise error(
            f"The {noun} is too large: at most {MAX_PIXELS / 1e6:.0f} megapixels are accepted. "
            "Resize it and try again."
        )
    return image


def _damaged(noun: str, error: type[EraserError]) -> EraserError:
    return error(f"The {noun} file is damaged or incomplete and cannot be read. Export or download it again.")


def _pixels_and_alpha(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB uint8 pixels plus the alpha channel kept aside, whatever the mode."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit and float grayscale: scale down rather than clip, as Pillow's convert would.
        wide = np.asarray(image.convert("I") if mode.startswith("I;16") else image)
        if wide.max(initial=0) > 255:
            wide = wide / 257.0
        gray = np.clip(np.rint(wide), 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2), None
    if mode in ("P", "PA") and "transparency" in image.info:
        return palette_pixels(image)
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"))
        return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])
    return np.asarray(image.convert("RGB") if mode != "RGB" else image), None


def palette_pixels(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Palette pixels and their transparency by table look-up, tolerating what Pillow refuses:
    a transparency table longer than the palette, or indices past its end (shown black)."""
    indices = np.asarray(image if image.mode == "P" else image.getchannel("P"))
    palette = np.zeros((256, 3), np.uint8)
    colours = np.frombuffer(bytes(image.getpalette("RGB") or b""), np.uint8)[: 256 * 3]
    palette.reshape(-1)[: colours.size] = colours
    alpha = np.full(256, 255, np.uint8)
    transparency = image.info["transparency"]
    if isinstance(transparency, (bytes, bytearray)):
        table = np.frombuffer(bytes(transparency[:256]), np.uint8)
        alpha[: table.size] = table
    elif isinstance(transparency, int) and 0 <= transparency < 256:
        alpha[transparency] = 0
    pixel_alpha = alpha[indices]
    if image.mode == "PA":
        pixel_alpha = np.minimum(pixel_alpha, np.asarray(image.getchannel("A")))
    return palette[indices], pixel_alpha


def _fit_exif(exif: bytes, limit: int) -> bytes | None:
    """EXIF that fits a JPEG: drop the largest entries (maker notes, comments) until it does.
    The orientation is already applied and absent; dates, camera and GPS usually survive."""
    if len(exif) <= limit:
        return exif
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = Image.Exif()
        try:
            fitted.load(exif)
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError):
            return None
        ifds = {0x8769: fitted.get_ifd(0x8769), 0x8825: fitted.get_ifd(0x8825)}
        entries = [(tag, ifds.get(tag, fitted)) for tag in list(fitted) if tag not in ifds]
        entries += [(tag, ifd) for ifd in ifds.values() for tag in list(ifd)]
        entries.sort(key=lambda e: len(repr(e[1][e[0]])), reverse=True)
        for tag, ifd in [(None, None)] + entries:
            if tag is not None:
                del ifd[tag]
            try:
                data = fitted.tobytes()
            except (OSError, ValueError, TypeError, struct.error):
                continue
            if len(data) <= limit:
                return data if len(fitted) else None
    return None


def _is_lossless_webp(data: bytes) -> bool:
    return data[12:16] == b"VP8L" or (data[12:16] == b"VP8X" and b"VP8L" in data[:4096])


def _check_sides(size: tuple[int, int]) -> None:
    if min(size) < MIN_SIDE:
        raise ImageError(
            f"The photo is {size[0]}x{size[1]} pixels, too small to edit: "
            f"choose one at least {MIN_SIDE} pixels on each side."
        )


@dataclass(frozen=True, eq=False)
class Glance:
    """A photo seen at a smaller scale than its own, to show it before the whole of it is
    decoded: its size, and its upright pixels (and alpha) at that scale."""

    size: tuple[int, int]  # (width, height) of the photo itself
    pixels: np.ndarray
    alpha: np.ndarray | None = None
    format: str = "JPEG"  # the only format seen at a smaller scale


def glance(data: bytes, fits: tuple[int, int], name: str | None = None) -> Glance | Photo:
    """A photo's first look, refused as Photo.open refuses it: a JPEG larger than `fits` (width,
    height) comes decoded at a scale nearer the size it is shown at, in a quarter of the time;
    any other photo comes whole, as a Photo, since a first look would cost as much."""
    data = bytes(data)
    image, orientation, size = _decode(data, "photo", ImageError, fits)
    if image.size == size:  # not scaled: the photo itself (both upright)
        return Photo._of(data, name, image, orientation, size)
    _check_sides(size)
    return Glance(size, *_pixels_and_alpha(image))


@dataclass(frozen=True, eq=False)
class Photo:
    """A decoded photo: upright RGB pixels, its alpha kept aside, and what is needed to save it."""

    pixels: np.ndarray
    format: str
    alpha: np.ndarray | None = None
    exif: bytes | None = None
    icc: bytes | None = None
    lossless: bool = True
    name: str | None = None
    filled_by: str = ""  # the engines that filled the last erase, for the person to be told
    # A JPEG's own file and decoded pixels: saving as JPEG again keeps its untouched blocks.
    jpeg_source: jpeg.Source | None = field(default=None, repr=False)

    @classmethod
    def open(cls, data: bytes, name: str | None = None) -> Photo:
        """Decode photo bytes; raises ImageError with a message a person can act on."""
        data = bytes(data)
        image, orientation, size = _decode(data, "photo", ImageError)
        return cls._of(data, name, image, orientation, size)

    @classmethod
    def _of(cls, data: bytes, name: str | None, image: Image.Image, orientation: int,
            size: tuple[int, int]) -> Photo:
        _check_sides(size)
        # Many cameras write MPO: a JPEG with extra pictures appended. The first one is the photo.
        fmt = "JPEG" if image.format == "MPO" else image.format
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = image.getexif()
            exif.pop(_ORIENTATION, None)  # the pixels are upright now
            try:
                exif_bytes = exif.tobytes() if len(exif) else None
            except (OSError, ValueError, TypeError, struct.error):
                exif_bytes = None  # metadata Pillow cannot write again is not worth a refusal
        icc = image.info.get("icc_profile") if image.mode != "CMYK" else None
        pixels, alpha = _pixels_and_alpha(image)
        for arr in (pixels, alpha):
            if arr is not None:
                arr.flags.writeable = False  # engines work on copies; the original stays intact
        return cls(
            pixels=pixels,
            format=fmt,
            alpha=alpha,
            exif=exif_bytes,
            icc=icc,
            lossless=fmt in ("PNG", "BMP") or (fmt == "WEBP" and _is_lossless_webp(data)),
            name=name,
            jpeg_source=jpeg.Source.of(data, image, pixels, orientation) if fmt == "JPEG" else None,
        )

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]

    def replace(self, pixels: np.ndarray, **changes) -> Photo:
        """The same photo with new RGB pixels of the same size (and any other field changed)."""
        if pixels.shape != self.pixels.shape:
            raise ValueError(f"pixels of shape {pixels.shape} do not fit {self.pixels.shape}")
        pixels.flags.writeable = False
        return dataclasses.replace(self, pixels=pixels, **changes)

    def reading_jpeg(self) -> Photo:
        """The same photo, its JPEG coefficients (if any) being read in the background for the
        encode() that will follow an erase."""
        if self.jpeg_source is None:
            return self
        return dataclasses.replace(self, jpeg_source=self.jpeg_source.reading())

    def to_image(self) -> Image.Image:
        """A Pillow image of the pixels, with the alpha channel put back."""
        image = Image.fromarray(self.pixels)
        if self.alpha is not None:
            image.putalpha(Image.fromarray(self.alpha))
        return image

    def encode(self, format: str | None = None) -> bytes:
        """The photo as file bytes, by default in the format it came in."""
        fmt = _normalise_format(format or self.format)
        if fmt == "JPEG" and self.jpeg_source is not None:
            kept = self.jpeg_source.encode(self.pixels)
            if kept is not None:
                return kept
        if fmt == "PNG":
            return self._png()
        image = self.to_image()
        options: dict = {}
        if fmt == "JPEG":
            image = image.convert("RGB") if image.mode != "RGB" else image
            # Full colour resolution: Pillow's default 4:2:0 would blur every edge's colour.
            options = {"quality": 95, "subsampling": 0}
        elif fmt == "WEBP":
            options = {"lossless": True} if self.lossless else {"quality": 95}
        exif = _fit_exif(self.exif, MAX_JPEG_EXIF) if fmt == "JPEG" and self.exif else self.exif
        if fmt != "BMP":
            options.update({k: v for k, v in (("exif", exif), ("icc_profile", self.icc)) if v})
        out = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image.save(out, fmt, **options)
        return out.getvalue()

    def _png(self) -> bytes:
        """The photo as PNG bytes: the pixels compressed by OpenCV (_PNG_OPTIONS), then its ICC
        profile and EXIF put after the header by Pillow's chunk writer, byte for byte as Pillow's
        own save did (OpenCV's metadata writer refuses a profile libpng finds malformed)."""
        if self.alpha is None:
            bgr = cv2.cvtColor(self.pixels, cv2.COLOR_RGB2BGR)
        else:
            bgr = cv2.cvtColor(self.pixels, cv2.COLOR_RGB2BGRA)
            bgr[..., 3] = self.alpha
        done, encoded = cv2.imencode(".png", bgr, _PNG_OPTIONS)
        if not done:
            raise ImageError("The photo could not be saved as PNG. Save it as JPEG instead.")
        metadata = io.BytesIO()
        if self.icc:
            PngImagePlugin.putchunk(metadata, b"iCCP", b"ICC Profile\0\0", zlib.compress(self.icc))
        if self.exif:  # PNG's eXIf chunk holds the TIFF data without JPEG's "Exif\0\0" prefix
            PngImagePlugin.putchunk(metadata, b"eXIf", self.exif.removeprefix(b"Exif\x00\x00"))
        data = memoryview(encoded)
        return b"".join([data[:_PNG_HEADER], metadata.getvalue(), data[_PNG_HEADER:]])

    def output_name(self, format: str | None = None) -> str:
        """'<stem>_erased.<ext>' for the download or the CLI's default output."""
        return output_name(self.name, format or self.format)

    def mime_type(self, format: str | None = None) -> str:
        return mime_type(format or self.format)


def output_name(name: str | None, format: str) -> str:
    """'<stem>_erased.<ext>': the erased photo's file name, for a photo of this name and format."""
    stem = PurePath(name).stem if name else "photo"
    return f"{stem}_erased.{FORMATS[_normalise_format(format)][0]}"


def mime_type(format: str) -> str:
    """The MIME type of a photo saved in this format."""
    return FORMATS[_normalise_format(format)][1]
