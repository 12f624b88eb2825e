"""Photo intake and output: formats by content, orientation, modes, alpha, metadata, names."""

import io

import numpy as np
import pytest
from PIL import Image

from eraser import ImageError, Photo, erase
from eraser.images import format_from_name
from tests.support.photos import encode, scene

PIXELS = scene(60, 40)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "WEBP"])
def test_accepts_each_format_by_content_whatever_the_name(fmt):
    photo = Photo.open(encode(PIXELS, fmt), name="holiday.gif")
    assert photo.format == fmt and photo.size == (60, 40)
    assert photo.pixels.dtype == np.uint8 and photo.pixels.shape == (40, 60, 3)
    if fmt in ("PNG", "BMP"):
        assert np.array_equal(photo.pixels, PIXELS)


def test_multi_picture_jpeg_from_a_camera_is_a_jpeg():
    first, second = Image.fromarray(PIXELS), Image.new("RGB", (60, 40), "black")
    photo = Photo.open(_saved(first, "MPO", save_all=True, append_images=[second]), name="DSC_1.JPG")
    assert photo.format == "JPEG" and photo.output_name() == "DSC_1_erased.jpg"
    assert np.abs(photo.pixels.astype(int) - PIXELS.astype(int)).mean() < 8  # the first picture
    assert Image.open(io.BytesIO(photo.encode())).format == "JPEG"


def test_exif_orientation_keeps_a_portrait_photo_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    img = Image.fromarray(PIXELS)
    out = io.BytesIO()
    img.save(out, "PNG", exif=exif.tobytes())
    photo = Photo.open(out.getvalue())
    assert photo.size == (40, 60)
    assert np.array_equal(photo.pixels, np.asarray(img.transpose(Image.Transpose.ROTATE_270)))
    # The saved result is upright without needing the tag: no double rotation in viewers.
    saved = Image.open(io.BytesIO(photo.encode()))
    assert saved.size == (40, 60) and saved.getexif().get(0x0112) is None


def _saved(img: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def test_rgba_keeps_alpha_aside_and_puts_it_back():
    alpha = np.tile(np.linspace(0, 255, 60).astype(np.uint8), (40, 1))
    rgba = np.dstack([PIXELS, alpha])
    photo = Photo.open(_saved(Image.fromarray(rgba, "RGBA")))
    assert np.array_equal(photo.alpha, alpha) and np.array_equal(photo.pixels, PIXELS)
    back = np.asarray(Image.open(io.BytesIO(photo.encode())))
    assert back.shape == (40, 60, 4) and np.array_equal(back, rgba)


@pytest.mark.parametrize(
    "make, expect_alpha",
    [
        (lambda: Image.fromarray(PIXELS).convert("P"), False),
        (lambda: Image.fromarray(PIXELS).convert("L"), False),
        (lambda: Image.fromarray(PIXELS).convert("LA"), True),
        (lambda: Image.fromarray(PIXELS).convert("1"), False),
    ],
    ids=["palette", "gray", "gray-alpha", "bilevel"],
)
def test_modes_become_rgb(make, expect_alpha):
    img = make()
    photo = Photo.open(_saved(img))
    assert photo.pixels.shape == (40, 60, 3)
    assert (photo.alpha is not None) == expect_alpha
    assert np.array_equal(photo.pixels, np.asarray(img.convert("RGB")))


def test_palette_with_transparency_keeps_its_alpha():
    img = Image.fromarray(PIXELS).convert("P")
    data = _saved(img, transparency=0)
    photo = Photo.open(data)
    assert photo.alpha is not None
    assert np.array_equal(photo.alpha, np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))[..., 3])


def test_cmyk_jpeg_becomes_rgb():
    img = Image.fromarray(PIXELS).convert("CMYK")
    photo = Photo.open(_saved(img, "JPEG", quality=95))
    assert photo.pixels.shape == (40, 60, 3)
    assert np.abs(photo.pixels.astype(int) - PIXELS.astype(int)).mean() < 12


def test_16_bit_grayscale_is_scaled_not_clipped():
    wide = np.tile(np.linspace(0, 65535, 60).astype(np.uint16), (40, 1))
    photo = Photo.open(_saved(Image.fromarray(wide)))
    assert photo.pixels[0, 0, 0] == 0 and photo.pixels[0, -1, 0] == 255
    assert 120 <= photo.pixels[0, 30, 0] <= 135  # mid-grey stays mid-grey


def test_jpeg_output_keeps_exif_and_icc():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    icc = b"fake-but-carried-icc-profile"
    data = _saved(Image.fromarray(PIXELS), "JPEG", quality=90, exif=exif.tobytes(), icc_profile=icc)
    photo = Photo.open(data, name="IMG_1.jpeg")
    saved = Image.open(io.BytesIO(photo.encode()))
    assert saved.format == "JPEG" and saved.getexif()[0x010F] == "PhoneMaker"
    assert saved.info["icc_profile"] == icc
    assert photo.output_name() == "IMG_1_erased.jpg" and photo.mime_type() == "image/jpeg"


@pytest.mark.parametrize("fmt", ["PNG", "BMP"])
def test_lossless_output_is_bit_exact(fmt):
    photo = Photo.open(encode(PIXELS, fmt))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(photo.encode()))), PIXELS)


def test_png_output_keeps_exif_and_any_icc_profile():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    icc = b"fake-but-carried-icc-profile"  # libpng would refuse it as malformed: carried all the same
    photo = Photo.open(_saved(Image.fromarray(PIXELS), exif=exif.tobytes(), icc_profile=icc))
    saved = Image.open(io.BytesIO(photo.encode()))
    assert saved.format == "PNG" and saved.getexif()[0x010F] == "PhoneMaker"
    assert saved.info["icc_profile"] == icc and np.array_equal(np.asarray(saved), PIXELS)


def test_an_erased_png_comes_back_bit_exact_with_its_alpha():
    pixels = scene(640, 480, seed=3)
    alpha = np.tile(np.linspace(0, 255, 640).astype(np.uint8), (480, 1))
    photo = Photo.open(_saved(Image.fromarray(np.dstack([pixels, alpha]), "RGBA")))
    mask = np.zeros((480, 640), bool)
    mask[200:260, 300:380] = True
    result = erase(photo, mask, engine="telea")
    back = np.asarray(Image.open(io.BytesIO(result.encode())))
    assert not np.array_equal(result.pixels, pixels)  # something was filled
    assert np.array_equal(back[..., :3], result.pixels) and np.array_equal(back[..., 3], alpha)


def test_lossless_webp_stays_lossless():
    photo = Photo.open(encode(PIXELS, "WEBP", lossless=True))
    assert photo.lossless and np.array_equal(photo.pixels, PIXELS)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(photo.encode()))), PIXELS)


def test_output_names_and_formats():
    photo = Photo.open(encode(PIXELS), name="shots/beach.png")
    assert photo.output_name() == "beach_erased.png"
    assert photo.output_name("JPEG") == "beach_erased.jpg" and photo.mime_type("webp") == "image/webp"
    assert Photo.open(encode(PIXELS)).output_name() == "photo_erased.png"
    assert format_from_name("x.JPEG") == "JPEG" and format_from_name("a.b.webp") == "WEBP"
    with pytest.raises(ImageError, match="ending in .jpg, .png, .bmp or .webp"):
        format_from_name("out.tiff")


def test_original_pixels_are_read_only():
    photo = Photo.open(encode(PIXELS))
    with pytest.raises(ValueError):
        photo.pixels[0, 0] = 0
