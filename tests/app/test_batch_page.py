"""The Batch page through AppTest: many photos with one mask or masks by name, a line per photo,
one zip of the results checked by its pixels, failures in words, and the caps refused up front."""

import io
import math
import re
import zipfile

import cv2
import numpy as np
import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

import eraser.batch_memory
from eraser import engines
from eraser.batch_memory import MAX_PHOTOS
from eraser.images import Photo
from eraser.masks import grow
from eraser.pipeline import DEFAULT_GROW
from tests.support.photos import blob, encode, scene

W, H = 160, 120
MASK = blob(W, H, (80, 70), 30)
OTHER_MASK = blob(W, H, (40, 40), 24)
ZIP = "erased-photos.zip"
MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "BMP": "image/bmp"}


@pytest.fixture
def served(monkeypatch):
    """What the page hands the browser to download, by file name: the bytes a person gets."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, data, mimetype, kind, filename=None):
        files[filename] = (data, mimetype)
        return original(self, data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return files


@pytest.fixture
def page(app):
    app.switch_page("pages/batch.py").run()
    assert not app.exception
    return app


def photo(name, seed=0, size=(W, H)):
    """(name, bytes, mime) of a scene in the format its name says (WEBP lossless)."""
    fmt = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "bmp": "BMP"}[name.rsplit(".", 1)[1]]
    options = {"lossless": True} if fmt == "WEBP" else {"quality": 92} if fmt == "JPEG" else {}
    return name, encode(scene(*size, seed=seed), fmt, **options), MIME[fmt]


def mask_file(name, mask):
    return name, encode(mask.astype(np.uint8) * 255), "image/png"


def erase_all(app, photos, mask=None, masks=None, engine="telea"):
    app.file_uploader(key="batch_photos").set_value(photos)
    if masks is not None:
        app.radio(key="batch_how").set_value("A mask per photo, by name")
        app.run()
        app.file_uploader(key="batch_masks").set_value(masks)
    elif mask is not None:
        app.file_uploader(key="batch_mask").set_value(mask)
    app.selectbox(key="batch_engine_input").set_value(engine)
    app.run()
    erase_button(app).click()
    return app.run()


def erase_button(app):
    (found,) = [b for b in app.button if b.label == "Erase all"]
    return found


def seen(markdown):
    """Markdown as a person reads it: icons, bold and escapes gone."""
    text = re.sub(r"(?<!\\)\*\*", "", re.sub(r":\w+\[:material/\w+:\] ", "", markdown))
    return re.sub(r"\\(.)", r"\1", text)


def failures(app):
    """{photo: reason} from the page's list of photos not erased."""
    (block,) = [m.value for m in app.markdown if m.value.startswith("**Not erased")]
    lines = [seen(line).removeprefix("- ") for line in block.splitlines()[2:]]
    return dict(line.split(": ", 1) for line in lines)


def zipped(served):
    data, mime = served[ZIP]
    assert mime == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return {name: archive.read(name) for name in archive.namelist()}


def pixels(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def erased_only_under(output, upload, mask, lossless=True):
    """The output has the upload's size and format; it differs under the (grown) mask and,
    outside it, not at all (a JPEG: not away from the 16 px blocks the mask touches)."""
    was, now = Image.open(io.BytesIO(upload)), Image.open(io.BytesIO(output))
    assert (now.format, now.size) == ("JPEG" if was.format == "JPEG" else was.format, was.size)
    before, after = pixels(upload), pixels(output)
    grown = grow(mask, DEFAULT_GROW)
    kept = ~grown if lossless else ~(cv2.dilate(grown.astype(np.uint8), np.ones((33, 33), np.uint8)) > 0)
    assert np.array_equal(after[kept], before[kept])
    assert np.abs(after[grown] - before[grown]).mean() > 3


def no_traceback(app):
    assert not app.exception
    words = " ".join(e.value for e in (*app.error, *app.markdown, *app.success, *app.info))
    assert "Traceback" not in words and "Error(" not in words


def test_the_page_asks_for_photos_a_mask_and_an_engine(page):
    uploader = page.file_uploader(key="batch_photos")
    assert uploader.accept_multiple_files and uploader.label.startswith("Photos")
    assert page.radio(key="batch_how").options == ["One mask for every photo", "A mask per photo, by name"]
    engine = page.selectbox(key="batch_engine_input")
    assert engine.options == list(engines.labels().values()) and engine.value == engines.DEFAULT
    assert erase_button(page).disabled  # no photos, no mask yet
    assert f"At most {MAX_PHOTOS} photos and 200 MB per batch" in page.caption[-1].value
    assert not page.get("download_button") and not page.error


def test_the_engine_starts_from_the_erase_pages_choice(app):
    app.sidebar.radio[1].set_value("telea")  # on the Erase page
    app.run()
    app.switch_page("pages/batch.py").run()
    assert app.selectbox(key="batch_engine_input").value == "telea"


def test_many_photos_with_one_mask_come_back_in_one_zip(page, served):
    photos = [photo("a.png", 0), photo("b.jpg", 1), photo("c.webp", 2), photo("d.bmp", 3), photo("e.jpeg", 4)]
    erase_all(page, photos, mask=mask_file("dust.png", MASK))
    no_traceback(page)
    assert page.success[0].value.startswith("5 of 5 photos erased in ")
    assert page.success[0].value.endswith("with Thin lines only (instant).")
    outputs = zipped(served)
    assert sorted(outputs) == ["a_erased.png", "b_erased.jpg", "c_erased.webp", "d_erased.bmp", "e_erased.jpg"]
    for (name, upload, _), output in zip(photos, ["a_erased.png", "b_erased.jpg", "c_erased.webp",
                                                  "d_erased.bmp", "e_erased.jpg"], strict=True):
        erased_only_under(outputs[output], upload, MASK, lossless=not name.endswith(("jpg", "jpeg")))
    (download,) = page.get("download_button")
    assert download.proto.url and download.label.startswith(f"Download the erased photos ({ZIP}, ")
    (done,) = [m.value for m in page.markdown if "→" in m.value]
    assert seen(done).splitlines()[0] == "- a.png → a_erased.png (Telea)"


def test_masks_by_name_each_photo_with_its_own(page, served):
    photos = [photo("a.png", 0), photo("b.png", 1), photo("c.png", 2), photo("d.png", 3)]
    masks = [mask_file("a.png", MASK), mask_file("b_mask.png", OTHER_MASK), mask_file("d.png", MASK),
             ("d_mask.bmp", encode(OTHER_MASK.astype(np.uint8) * 255, "BMP"), "image/bmp"),
             mask_file("nobody.png", MASK)]  # a mask without its photo is ignored
    erase_all(page, photos, masks=masks)
    no_traceback(page)
    assert page.success[0].value.startswith("2 of 4 photos erased") and "; 2 could not be." in page.success[0].value
    assert failures(page) == {
        "c.png": "There is no mask for it among the masks: add c.png or c_mask.png.",
        "d.png": "Several masks match it (d.png, d_mask.bmp): keep one.",
    }
    outputs = zipped(served)
    assert sorted(outputs) == ["a_erased.png", "b_erased.png"]
    erased_only_under(outputs["a_erased.png"], photos[0][1], MASK)
    erased_only_under(outputs["b_erased.png"], photos[1][1], OTHER_MASK)


def test_a_corrupt_photo_is_listed_in_words_and_the_rest_are_in_the_zip(page, served):
    cut = ("b.jpg", photo("b.jpg", 1)[1][:300], "image/jpeg")
    photos = [photo("a.png", 0), cut, photo("c.png", 2)]
    erase_all(page, photos, mask=mask_file("dust.png", MASK))
    no_traceback(page)
    assert failures(page) == {"b.jpg": "The photo file is damaged or incomplete and cannot be read. "
                                       "Export or download it again."}
    assert sorted(zipped(served)) == ["a_erased.png", "c_erased.png"]
    assert [f.name for f in page.file_uploader(key="batch_photos").value] == ["a.png", "b.jpg", "c.png"]


def test_a_photo_of_another_size_is_listed_not_stretched(page, served):
    photos = [photo("a.png", 0), photo("big.png", 1, size=(2 * W, 2 * H))]
    erase_all(page, photos, mask=mask_file("dust.png", MASK))
    no_traceback(page)
    reason = failures(page)["big.png"]
    assert reason == (f"The photo is {2 * W}x{2 * H} pixels but the mask is {W}x{H}: one mask serves only photos "
                      "of its size. Give this photo its own mask: choose “A mask per photo, by name”.")
    assert "A mask per photo, by name" in page.radio(key="batch_how").options  # the choice it names
    assert sorted(zipped(served)) == ["a_erased.png"]


def test_when_no_photo_can_be_erased_there_is_no_zip_and_the_photos_stay(page, served):
    erase_all(page, [photo("big.png", 1, size=(2 * W, 2 * H))], mask=mask_file("dust.png", MASK))
    no_traceback(page)
    assert page.error[0].value.startswith("No photo could be erased")
    assert not page.get("download_button") and ZIP not in served
    assert [f.name for f in page.file_uploader(key="batch_photos").value] == ["big.png"]


def test_more_photos_than_the_cap_are_refused_before_any_work(page, monkeypatch):
    opened = []
    monkeypatch.setattr(Photo, "open", classmethod(lambda cls, *a, **k: opened.append(a) or None))
    tiny = encode(scene(16, 16))
    page.file_uploader(key="batch_photos").set_value([(f"p{i}.png", tiny, "image/png") for i in range(MAX_PHOTOS + 1)])
    page.file_uploader(key="batch_mask").set_value(mask_file("dust.png", MASK))
    page.run()
    assert [e.value for e in page.error] == [f"That is {MAX_PHOTOS + 1} photos; a batch takes at most {MAX_PHOTOS}. "
                                             f"Erase them in batches of {MAX_PHOTOS} or fewer."]
    assert erase_button(page).disabled and not opened
    no_traceback(page)


def test_more_bytes_than_the_cap_are_refused_before_any_work(page, monkeypatch):
    monkeypatch.setattr(eraser.batch_memory, "MAX_BATCH_BYTES", 2**20)
    noise = np.random.default_rng(0).integers(0, 256, (400, 400, 3), dtype=np.uint8)
    photos = [(f"n{i}.png", encode(noise), "image/png") for i in range(3)]  # about 470 KB each
    total = math.ceil(sum(len(data) for _, data, _ in photos) / 2**20 * 10) / 10  # rounded up
    page.file_uploader(key="batch_photos").set_value(photos)
    page.run()
    assert [e.value for e in page.error] == [f"The photos and masks come to {total:.1f} MB; a batch takes at most "
                                             "1 MB. Erase them in smaller batches."]
    assert erase_button(page).disabled


def test_an_empty_mask_is_refused_in_words_and_nothing_is_lost(page, served):
    photos = [photo("a.png", 0), photo("b.png", 1)]
    erase_all(page, photos, mask=mask_file("blank.png", np.zeros((H, W), bool)))
    no_traceback(page)
    assert [e.value for e in page.error] == ["The mask is empty: there is nothing to erase. Paint over what should go."]
    assert not page.progress and not page.get("download_button")
    assert [f.name for f in page.file_uploader(key="batch_photos").value] == ["a.png", "b.png"]
    assert page.file_uploader(key="batch_mask").value.name == "blank.png"


def test_other_photos_forget_the_old_zip(page, served):
    erase_all(page, [photo("a.png", 0)], mask=mask_file("dust.png", MASK))
    assert page.get("download_button")
    page.file_uploader(key="batch_photos").set_value([photo("b.png", 1)])
    page.run()
    assert not page.get("download_button") and not page.success
    assert not erase_button(page).disabled


def test_the_zip_survives_a_visit_to_about(page, served):
    erase_all(page, [photo("a.png", 0)], mask=mask_file("dust.png", MASK))
    page.switch_page("pages/about.py").run()
    page.switch_page("pages/batch.py").run()
    assert not page.exception and page.get("download_button")
    assert page.success[0].value.startswith("1 of 1 photos erased")
