"""One backend layer: Local and Remote return the same Result (photo, who filled it, a note),
and Local decides once what happens when a learned model cannot be had."""

import numpy as np
import pytest

from eraser import Photo
from eraser.backends import Local, Remote, Result, weaker
from eraser.engines import learned
from eraser.errors import ModelError
from tests.support.model_host import hosted_migan, pin
from tests.support.photos import blob, encode
from tests.support.remote import KEY, make_app, serving

WIDTH, HEIGHT = 400, 300


@pytest.fixture(autouse=True)
def fresh_sessions():
    learned.forget()  # no model file exists here (ERASER_OFFLINE=1): every load fails
    yield
    learned.forget()


def scene():
    """Grey grain with a red object, and the mask over the object."""
    rng = np.random.default_rng(1)
    pixels = np.clip(rng.normal(128, 6, (HEIGHT, WIDTH, 3)), 0, 255).astype(np.uint8)
    mask = blob(WIDTH, HEIGHT, (200, 150), 80)
    pixels[mask] = (220, 30, 30)
    return Photo.open(encode(pixels, "PNG"), name="scene.png"), mask


def outside_unchanged(before: Photo, after: Photo, mask: np.ndarray) -> bool:
    from eraser.masks import grow

    keep = ~grow(mask, 5)
    return np.array_equal(before.pixels[keep], after.pixels[keep])


def test_local_returns_the_photo_and_who_filled_it():
    photo, mask = scene()
    result = Local("patchmatch").erase(photo, mask)
    assert isinstance(result, Result) and result.filled_by == "PatchMatch" and result.note == ""
    assert outside_unchanged(photo, result.photo, mask)
    assert result.photo.pixels[mask][:, 0].mean() < 160  # the red object is gone


def test_a_learned_engine_without_its_model_is_refused_unless_fallback_is_asked():
    with pytest.raises(ModelError):
        Local("migan").load()


def test_with_fallback_patchmatch_fills_and_the_note_is_in_plain_words():
    photo, mask = scene()
    backend = Local("migan", fallback=True)
    result = backend.erase(photo, mask)
    assert result.filled_by == "PatchMatch" and result.note == weaker("MI-GAN")
    assert ".onnx" not in result.note and "Error" not in result.note
    assert backend.fell_back and "PatchMatch" in backend.reason  # the technical cause, for logs


def test_auto_without_its_model_tells_only_when_patchmatch_filled_an_object():
    photo, mask = scene()
    assert Local("auto").erase(photo, mask).note == weaker("MI-GAN")
    thin = np.zeros_like(mask)
    thin[100:103, 50:350] = True  # a scratch: Telea fills it, the missing model does not matter
    assert Local("auto").erase(photo, thin).note == ""


@pytest.mark.slow
def test_remote_returns_the_same_result(tmp_path):
    photo, mask = scene()
    with serving(make_app(tmp_path)) as origin:
        result = Remote(KEY, origin, allow_local=True).erase(photo, mask)
    assert result.filled_by == "Remote service" and result.note == ""
    assert result.photo.size == photo.size and outside_unchanged(photo, result.photo, mask)


@pytest.mark.slow
def test_fetches_says_whether_loading_would_download_a_model_first(tmp_path, monkeypatch):
    assert not Local("patchmatch").fetches and not Local("telea").fetches
    assert not Local("auto").fetches and not Local("migan").fetches  # downloads are off here: no fetch
    with hosted_migan(monkeypatch, tmp_path / "host", tmp_path / "cache"):
        assert Local("auto").fetches and Local("migan").fetches and Local("lama").fetches
        assert not Local("migan", model_file=tmp_path / "own.onnx").fetches  # a file of the person's own
        local = Local("auto").load()  # fetched here
        assert not local.fetches and not Local("auto").fetches and not Local("migan").fetches


def test_a_model_that_just_failed_to_download_is_not_fetched_again_yet(monkeypatch):
    monkeypatch.delenv("ERASER_OFFLINE")
    pin(monkeypatch, "migan", b"never served", "http://127.0.0.1:9/migan.onnx")
    assert Local("auto").fetches
    assert Local("auto").load().fell_back  # the download failed: PatchMatch fills objects
    assert not Local("auto").fetches and not Local("migan").fetches  # until learned.RETRY_AFTER has passed
