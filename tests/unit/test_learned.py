"""The learned engines with stand-in models of the real ones' exact inputs and outputs: the
wiring (layout, scale, mask polarity, padding and resizing to 512), what the model is fed in
the hole, no rim where MI-GAN's pipeline blends its input into its fill, the paste under the
mask only, several windows, one session per file, and the self-check accepting and refusing."""

import dataclasses
import time

import numpy as np
import pytest

from eraser import Photo, engines, erase, models
from eraser.engines import learned, selfcheck
from eraser.errors import ModelError
from eraser.masks import edge, grow
from tests.support.model_host import pin
from tests.support.onnx_models import lama_like, migan_like
from tests.support.photos import blob, encode

BUILDERS = {"migan": migan_like, "lama": lama_like}
RED, BLUE = (200, 40, 30), (30, 60, 210)


@pytest.fixture(autouse=True)
def fresh_sessions():
    learned.forget()
    yield
    learned.forget()


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    return {name: build(folder / f"{name}.onnx") for name, build in BUILDERS.items()}


def two_colour_photo(width=900, height=420, seed=0):
    """Left half red, right half blue, with a little grain: a fill must take its side's colour."""
    rng = np.random.default_rng(seed)
    pixels = np.empty((height, width, 3), np.float32)
    pixels[:, : width // 2] = RED
    pixels[:, width // 2 :] = BLUE
    pixels += rng.normal(0, 3, pixels.shape)
    return np.clip(pixels, 0, 255).astype(np.uint8)


def with_objects(pixels, *discs):
    """The photo with a green object on each disc, and the mask that covers them."""
    height, width = pixels.shape[:2]
    mask = np.zeros((height, width), bool)
    for centre, diameter in discs:
        mask |= blob(width, height, centre, diameter)
    pixels = pixels.copy()
    pixels[mask] = (20, 220, 20)
    return Photo.open(encode(pixels)), mask


@pytest.mark.parametrize("name", BUILDERS)
def test_each_object_is_filled_from_its_own_side_and_nothing_else_changes(model_files, name):
    photo, mask = with_objects(two_colour_photo(), ((200, 210), 120), ((700, 180), 90))
    result = erase(photo, mask, engine=engines.get(name, model_files[name]), grow=3)
    assert result.filled_by == engines.get(name).title
    grown = grow(mask, 3)
    assert np.array_equal(result.pixels[~grown], photo.pixels[~grown])  # bit-identical outside
    left, right = grown.copy(), grown.copy()
    left[:, 450:], right[:, :450] = False, False
    # Every pixel of each hole, edges included, has its side's colour: no green, no black from
    # a misplaced crop or pad, no channel swapped.
    assert np.abs(result.pixels[left].astype(int) - RED).max() < 30
    assert np.abs(result.pixels[right].astype(int) - BLUE).max() < 30


@pytest.mark.slow
def test_lama_pads_a_long_thin_window_and_scales_a_large_one_back(model_files):
    engine = engines.get("lama", model_files["lama"])
    wide = two_colour_photo(1400, 300)[:, :600]  # all red: one window 600 x ~300 after scaling
    tall = two_colour_photo(2400, 1800)[:, :1100]
    for photo, mask in (with_objects(wide, ((300, 150), 200)), with_objects(tall, ((550, 900), 900))):
        result = erase(photo, mask, engine=engine, grow=0)
        assert result.size == photo.size
        assert np.abs(result.pixels[mask].astype(int) - RED).max() < 30
        assert np.array_equal(result.pixels[~mask], photo.pixels[~mask])


def test_the_window_sent_to_the_model_has_the_models_layout(model_files):
    engine = engines.get("lama", model_files["lama"])
    rgb = two_colour_photo(300, 200)
    hole = np.zeros((200, 300), bool)
    hole[50:150, 100:200] = True
    image, mask, _ = engine.feed(rgb, hole)
    assert image.shape == (1, 3, 512, 512) and image.dtype == np.float32 and 0 <= image.min() and image.max() <= 1
    assert mask.shape == (1, 1, 512, 512) and set(np.unique(mask)) == {0.0, 1.0}
    assert abs(float(image[0, 0, 10, 10]) - RED[0] / 255) < 0.05  # channel 0 is red
    image, keep, _ = engines.get("migan", model_files["migan"]).feed(rgb, hole)
    assert image.shape == (1, 3, 200, 300) and image.dtype == np.uint8 and image[0, 0, 10, 10] > 150
    assert keep.dtype == np.uint8 and keep[0, 0, 100, 150] == 0 and keep[0, 0, 10, 10] == 255  # 255 = keep


def flat_and_gradient(width=480, height=360):
    """A flat grey photo and a smooth gradient (under 0.1 level per pixel), the truths under an object."""
    x = np.arange(width, dtype=np.float32)[None, :].repeat(height, axis=0)
    y = np.arange(height, dtype=np.float32)[:, None].repeat(width, axis=1)
    gradient = np.stack([70 + 0.06 * x, 110 + 0.05 * y, 170 - 0.06 * x], axis=2).round().astype(np.uint8)
    return {"flat grey": np.full((height, width, 3), 128, np.uint8), "gradient": gradient}


@pytest.mark.parametrize("photo", ["flat grey", "gradient"])
def test_a_fill_blended_like_the_migan_pipeline_has_no_rim(model_files, photo):
    truth = flat_and_gradient()[photo]
    dark = blob(480, 360, (240, 180), 90)
    pixels = truth.copy()
    pixels[dark] = (40, 30, 20)  # a dark object: the rim would be darker still with the old wiring
    result = erase(Photo.open(encode(pixels)), dark, engine=engines.get("migan", model_files["migan"]), grow=6)
    hole = grow(dark, 6)
    # Every pixel of the fill, the 3 px just inside its edge included, is within a few levels.
    assert np.abs(result.pixels[hole].astype(int) - truth[hole]).max() <= 4
    assert np.array_equal(result.pixels[~hole], truth[~hole])


def test_a_model_is_fed_black_in_the_hole_and_background_just_inside_its_edge():
    expected = flat_and_gradient(300, 200)["gradient"]
    hole = blob(300, 200, (150, 100), 120)
    rgb = expected.copy()
    rgb[hole] = (20, 220, 20)  # the object
    fed = learned.background(rgb, hole)
    ring = edge(hole, learned.RING)
    assert np.array_equal(fed[~hole], rgb[~hole])
    assert np.abs(fed[ring].astype(int) - expected[ring]).max() <= 3  # background, not the object
    assert not fed[hole & ~ring].any()  # black deeper in: nothing of the object is left


def test_one_session_per_model_file_per_process(model_files):
    first = engines.get("migan", model_files["migan"]).load()
    second = engines.get("migan", model_files["migan"]).load()
    assert first._wiring.session is second._wiring.session


@pytest.mark.slow
@pytest.mark.parametrize("name, flaw, message", [
    ("migan", {"invert": True}, "levels off, so it does not follow"), ("migan", {"swap": True}, "levels off"),
    ("migan", {"black_rim": True}, "just inside a test hole's edge are .* levels off, a rim around every fill"),
    ("lama", {"invert": True}, "levels off"), ("lama", {"swap": True}, "levels off"),
    ("lama", {"unit_output": True}, "levels off"),
])
def test_the_self_check_refuses_a_model_with_another_convention(tmp_path, name, flaw, message):
    file = BUILDERS[name](tmp_path / "wrong.onnx", **flaw)
    photo, mask = with_objects(two_colour_photo(), ((200, 210), 120))
    with pytest.raises(ModelError, match=f"failed its self-check: .*{message}.*It was not used"):
        erase(photo, mask, engine=engines.get(name, file))
    with pytest.raises(ModelError, match="failed its self-check"):  # and stays refused
        engines.get(name, file).load()


def test_the_self_check_passes_a_mean_fill_and_measures_a_real_gap():
    painted, hole, expected = selfcheck.case()
    mean = painted[~hole].mean(axis=0)
    filled = painted.copy()
    filled[hole] = mean.round()
    band = edge(hole, selfcheck.BAND)
    assert selfcheck.error(filled, hole, expected) < selfcheck.TOLERANCE
    assert selfcheck.error(filled, band, expected) < selfcheck.RIM_TOLERANCE
    assert selfcheck.error(filled[..., ::-1], hole, expected) > selfcheck.TOLERANCE * 2
    assert selfcheck.error(painted, hole, expected) > selfcheck.TOLERANCE * 3
    # A rim 3 px wide, blended half and half with black or with the object: a small share of
    # the hole, so the hole as a whole passes, but the band does not.
    for under in ((0, 0, 0), selfcheck.FAR):
        rimmed = filled.copy()
        rimmed[band] = (rimmed[band] / 2 + np.array(under) / 2).round()
        assert selfcheck.error(rimmed, hole, expected) < selfcheck.TOLERANCE
        assert selfcheck.error(rimmed, band, expected) > selfcheck.RIM_TOLERANCE * 2


@pytest.mark.slow
def test_files_that_are_not_the_right_model_are_refused_in_one_sentence(tmp_path, model_files):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a graph at all" * 100)
    with pytest.raises(ModelError, match="is not a usable ONNX model"):
        engines.get("migan", junk).load()
    with pytest.raises(ModelError, match="is not a MI-GAN model: its inputs should be tensor\\(uint8\\)"):
        engines.get("migan", model_files["lama"]).load()
    with pytest.raises(ModelError, match="is not a LaMa model"):
        engines.get("lama", model_files["migan"]).load()
    small = lama_like(tmp_path / "small.onnx", side=256)
    with pytest.raises(ModelError, match="should take 512 x 512 pixels"):
        engines.get("lama", small).load()
    with pytest.raises(ModelError, match="Cannot read the model file"):
        engines.get("lama", tmp_path / "missing.onnx").load()


def test_a_model_file_only_goes_with_a_learned_engine(model_files):
    with pytest.raises(engines.EngineError, match="only works with a learned engine"):
        engines.get("patchmatch", model_files["migan"])


@pytest.mark.slow
def test_auto_fills_objects_with_migan_when_its_file_is_in_place(monkeypatch, tmp_path, model_files):
    monkeypatch.setenv("ERASER_MODELS_DIR", str(tmp_path))
    pinned = pin(monkeypatch, "migan", model_files["migan"].read_bytes())
    (tmp_path / pinned.file).write_bytes(model_files["migan"].read_bytes())
    pixels = two_colour_photo()
    photo, mask = with_objects(pixels, ((200, 210), 120))
    mask[380:384, 750:850] = True  # and a thin line on the blue side, in a window of its own
    result = erase(photo, mask)
    assert result.filled_by == "MI-GAN, Telea"
    assert engines.get("auto").load().note == ""


@pytest.mark.slow
def test_auto_without_a_model_falls_back_to_patchmatch_quickly_with_a_note(monkeypatch, tmp_path):
    monkeypatch.setenv("ERASER_MODELS_DIR", str(tmp_path))
    monkeypatch.delenv("ERASER_OFFLINE")
    monkeypatch.setitem(models.MODELS, "migan", dataclasses.replace(models.MODELS["migan"], url="http://127.0.0.1:9/m.onnx"))
    start = time.perf_counter()
    auto = engines.get("auto").load()
    assert time.perf_counter() - start < 2.0
    assert "Could not download" in auto.note and auto.note.endswith("Objects are filled with PatchMatch instead.")
    photo, mask = with_objects(two_colour_photo(), ((200, 210), 120))
    assert erase(photo, mask, engine=auto).filled_by == "PatchMatch"
    # The failure is remembered: the next erase does not try the network again.
    monkeypatch.setattr(models, "pull", lambda *a, **k: pytest.fail("retried the download"))
    assert "Could not download" in engines.get("auto").load().note
