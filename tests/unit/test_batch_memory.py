"""eraser.batch_memory: photos held in memory erased into one zip, within its caps."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from eraser import batch_memory
from eraser.backends import Local
from eraser.batch import DONE, FAILED
from eraser.batch_memory import MAX_PHOTOS, OUT_OF_MEMORY, MemoryBatch, ResultsZip, check_uploads
from eraser.errors import EraserError
from eraser.images import Photo
from tests.support.photos import blob, encode, scene

W, H = 96, 64
MASK = encode(blob(W, H, (48, 32), 16).astype(np.uint8) * 255)


def png(seed=0, size=(W, H)):
    return encode(scene(*size, seed=seed))


def run(batch, backend=None):
    outcomes = list(batch.run(backend or Local("telea")))
    archive = zipfile.ZipFile(io.BytesIO(batch.results.close()))
    return outcomes, {name: archive.read(name) for name in archive.namelist()}


def test_the_results_are_named_by_content_and_the_browsers_path_is_dropped():
    photos = [("../../up/a.png", png(0)), ("C:\\Users\\me\\b.jpg", png(1)), ("c.jpg", png(2))]  # c is a PNG
    outcomes, outputs = run(MemoryBatch(photos, mask=MASK))
    assert [(o.photo, o.status, o.output) for o in outcomes] == [
        ("../../up/a.png", DONE, "a_erased.png"), ("C:\\Users\\me\\b.jpg", DONE, "b_erased.png"),
        ("c.jpg", DONE, "c_erased.png")]
    assert sorted(outputs) == ["a_erased.png", "b_erased.png", "c_erased.png"]
    assert all(Image.open(io.BytesIO(data)).size == (W, H) for data in outputs.values())


def test_two_photos_with_one_output_name_the_second_fails_before_it_is_erased():
    erased = []

    class Counting(Local):
        def erase(self, photo, mask, grow=0, **kwargs):
            erased.append(photo.name)
            return super().erase(photo, mask, grow, **kwargs)

    photos = [("a.png", png(0)), ("A.PNG", png(1)), ("b.jpg", encode(scene(W, H), "JPEG")),
              ("b.jpeg", encode(scene(W, H, 1), "JPEG"))]
    outcomes, outputs = run(MemoryBatch(photos, mask=MASK), Counting("telea"))
    assert [o.reason for o in outcomes if o.status == FAILED] == [
        "Its output, A_erased.png, would also be the output of a.png: rename one of the two photos.",
        "Its output, b_erased.jpg, would also be the output of b.jpg: rename one of the two photos."]
    assert erased == ["a.png", "b.jpg"] and sorted(outputs) == ["a_erased.png", "b_erased.jpg"]


def test_a_failed_photo_does_not_hold_its_name():
    photos = [("a.jpg", b"\xff\xd8\xff broken"), ("a.jpeg", encode(scene(W, H), "JPEG"))]
    outcomes, outputs = run(MemoryBatch(photos, mask=MASK))
    assert [o.status for o in outcomes] == [FAILED, DONE] and list(outputs) == ["a_erased.jpg"]


def test_running_out_of_memory_costs_one_photo():
    class Tight(Local):
        def erase(self, photo, mask, grow=0, **kwargs):
            if photo.name == "b.png":
                raise MemoryError
            return super().erase(photo, mask, grow, **kwargs)

    outcomes, outputs = run(MemoryBatch([("a.png", png(0)), ("b.png", png(1)), ("c.png", png(2))], mask=MASK),
                            Tight("telea"))
    assert [o.status for o in outcomes] == [DONE, FAILED, DONE]
    assert outcomes[1].reason == f"Erasing it ran out of memory. {OUT_OF_MEMORY}"
    assert sorted(outputs) == ["a_erased.png", "c_erased.png"]


@pytest.mark.parametrize("photos, masks, words", [
    ([], [], "There are no photos: upload at least one."),
    ([("p.png", b"x")] * (MAX_PHOTOS + 1), [], f"That is {MAX_PHOTOS + 1} photos; a batch takes at most {MAX_PHOTOS}."),
    ([("p.png", b"x")], [("m.png", b"x")] * (MAX_PHOTOS + 1), f"That is {MAX_PHOTOS + 1} mask files;"),
    ([("p.png", b"x" * 600_000)], [("m.png", b"x" * 448_577)], "The photos and masks come to 1.1 MB; a batch takes "
                                                               "at most 1 MB. Erase them in smaller batches."),
])
def test_the_caps_are_refused_in_words(monkeypatch, photos, masks, words):
    monkeypatch.setattr(batch_memory, "MAX_BATCH_BYTES", 2**20)
    with pytest.raises(EraserError, match=words.replace("(", r"\(").replace(".", r"\.")):
        check_uploads(photos, masks)


def test_a_bad_batch_is_refused_before_any_photo_is_decoded(monkeypatch):
    opened = []
    monkeypatch.setattr(Photo, "open", classmethod(lambda cls, *args, **kwargs: opened.append(args)))
    photos = [("a.png", png(0))]
    blank = encode(np.zeros((H, W), np.uint8))
    for kwargs, words in [({"mask": blank}, "The mask is empty"), ({"mask": b"not an image"}, "The mask is not a"),
                          ({}, "Give either one mask"), ({"mask": MASK, "masks": []}, "Give either one mask"),
                          ({"mask": MASK, "grow": 101}, "Grow must be between 0 and 100"),
                          ({"masks": [("m.png", b"x")] * (MAX_PHOTOS + 1)}, "mask files")]:
        with pytest.raises(EraserError, match=words):
            MemoryBatch(photos, **kwargs)
    assert not opened


def test_masks_by_name_are_matched_on_the_base_name():
    photos = [("shoot/a.png", png(0)), ("b.png", png(1))]
    masks = [("masks\\a_mask.png", MASK), ("b.png", MASK)]
    outcomes, outputs = run(MemoryBatch(photos, masks=masks))
    assert [o.status for o in outcomes] == [DONE, DONE] and sorted(outputs) == ["a_erased.png", "b_erased.png"]


def test_the_zip_never_passes_its_cap_and_stays_whole_after_a_refusal():
    rng = np.random.default_rng(0)
    cap = 200_000
    results = ResultsZip(cap)
    added, refused = [], 0
    for i in range(40):
        size = int(rng.integers(1_000, 40_000))
        entry = f"photo{i}_erased." + ("bmp" if i % 3 == 0 else "jpg")
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()  # noise: deflate cannot shrink it
        try:
            results.add(entry, data, f"photo{i}")
        except EraserError as error:
            assert str(error) == ("The zip of the results would pass 0.190735 MB, its limit, with this photo: "
                                  "erase it in another batch.")
            refused += 1
        else:
            added.append((entry, data))
    data = results.close()
    assert refused and len(data) <= cap
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None and [(n, archive.read(n)) for n in archive.namelist()] == added
    assert results.count == len(added)


def test_bmp_results_are_compressed_and_the_others_stored():
    results = ResultsZip()
    results.add("a_erased.bmp", encode(scene(W, H), "BMP"), "a.bmp")
    results.add("b_erased.png", png(1), "b.png")
    info = {i.filename: i for i in zipfile.ZipFile(io.BytesIO(results.close())).infolist()}
    assert info["a_erased.bmp"].compress_type == zipfile.ZIP_DEFLATED
    assert info["a_erased.bmp"].compress_size < info["a_erased.bmp"].file_size
    assert info["b_erased.png"].compress_type == zipfile.ZIP_STORED
