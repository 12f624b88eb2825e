"""Hostile model files, on the library and the CLI: a path that is not a file, a graph that
loops forever, one that allocates 3 GB, one that answers NaN (always, or only for a hole larger
than the self-check's). Each ends in bounded time with one clear sentence, never a hang, a
traceback or a black fill."""

import dataclasses
import os
import re
import subprocess
import time

import numpy as np
import pytest

from eraser import Photo, engines, erase, models
from eraser.engines import learned, vetting
from eraser.errors import ModelError
from tests.support.model_host import pin
from tests.support.onnx_models import LARGE_HOLE, lama_like, migan_like
from tests.support.photos import blob, encode, scene
from tests.unit.cli import run_cli

pytestmark = pytest.mark.slow  # each test starts servers or model-vetting processes

BOUND = 60.0  # seconds: generous, the point is that it ends


@pytest.fixture(autouse=True)
def fresh_sessions():
    learned.forget()
    yield
    learned.forget()


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.onnx"
    os.mkfifo(path)
    return path


def large_hole_photo():
    """A photo whose object makes a hole larger than LARGE_HOLE pixels in its window."""
    mask = blob(640, 480, (320, 240), 260)
    return Photo.open(encode(scene(640, 480))), mask


def test_a_path_that_is_not_a_file_is_refused_before_it_is_opened(tmp_path, fifo):
    start = time.monotonic()
    for path, kind in ((fifo, "a pipe \\(FIFO\\)"), (tmp_path, "a folder"), ("/dev/zero", "a device")):
        with pytest.raises(ModelError, match=f"is {kind}, not a file"):
            engines.get("migan", path).load()
    assert time.monotonic() - start < 5  # nothing waited for a writer or read /dev/zero


def test_a_fifo_in_place_of_a_downloaded_model_is_refused_too(monkeypatch, tmp_path):
    monkeypatch.setenv("ERASER_MODELS_DIR", str(tmp_path))
    os.mkfifo(tmp_path / models.get("migan").file)
    with pytest.raises(ModelError, match="is a pipe \\(FIFO\\), not a file"):
        engines.get("migan").load()


def test_an_endless_loop_is_stopped_at_the_time_limit(monkeypatch, tmp_path):
    monkeypatch.setattr(vetting, "BASE_SECONDS", 4.0)
    file = migan_like(tmp_path / "loop.onnx", trap="loop")
    start = time.monotonic()
    with pytest.raises(ModelError, match="'loop.onnx' took longer than 4 s to open and check, so it was not used"):
        engines.get("migan", file).load()
    assert time.monotonic() - start < BOUND


def test_a_graph_that_allocates_3_gb_is_refused_at_the_memory_budget(tmp_path):
    file = migan_like(tmp_path / "greedy.onnx", trap="allocate")
    start = time.monotonic()
    with pytest.raises(ModelError, match="'greedy.onnx' failed its self-check: it needed more memory than a model "
                                         "may use \\(2 GB\\) on a test window"):
        engines.get("migan", file).load()
    assert time.monotonic() - start < BOUND


@pytest.mark.parametrize("build, name", [(migan_like, "migan"), (lama_like, "lama")])
def test_nan_in_the_self_check_is_a_refusal(tmp_path, build, name):
    file = build(tmp_path / "nan.onnx", trap="nan")
    with pytest.raises(ModelError, match="'nan.onnx' failed its self-check: it answered NaN or infinite values"):
        engines.get(name, file).load()


@pytest.mark.parametrize("build, name, title", [(migan_like, "migan", "MI-GAN"), (lama_like, "lama", "LaMa")])
def test_nan_in_a_real_erase_is_a_refusal_not_a_black_fill(tmp_path, build, name, title):
    file = build(tmp_path / "nan-later.onnx", trap="nan", over=LARGE_HOLE)
    engine = engines.get(name, file).load()  # the self-check's hole is smaller: it passes
    photo, mask = large_hole_photo()
    with pytest.raises(ModelError, match=f"^The {title} model answered NaN or infinite values on one window of "
                                         "this photo, so nothing was filled with it. Try another engine.$"):
        erase(photo, mask, engine=engine)


def test_every_real_run_has_a_deadline(tmp_path):
    file = migan_like(tmp_path / "loop-later.onnx", trap="loop", over=LARGE_HOLE)
    engine = engines.get("migan", file).load()
    engine._wiring = dataclasses.replace(engine._wiring, seconds=3.0)  # instead of 15 s: a quicker test
    photo, mask = large_hole_photo()
    start = time.monotonic()
    with pytest.raises(ModelError, match="^The MI-GAN model took longer than 3 s on one window"):
        erase(photo, mask, engine=engine)
    assert 2.5 < time.monotonic() - start < BOUND


def test_a_vetted_file_is_not_vetted_again_even_by_another_process(monkeypatch, tmp_path):
    file = migan_like(tmp_path / "good.onnx")
    children = []
    run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: children.append(args) or run(*args, **kwargs))
    engines.get("migan", file).load()
    assert len(children) == 1
    learned.forget()
    monkeypatch.setattr(vetting, "_passed", {})  # as a new process starts: only the record is left
    engines.get("migan", file).load()
    assert len(children) == 1
    os.utime(file, ns=(time.time_ns(), time.time_ns() + 10**9))  # the file changed: vetted again
    learned.forget()
    engines.get("migan", file).load()
    assert len(children) == 2


def test_a_published_file_is_vetted_like_any_other(monkeypatch, tmp_path):
    monkeypatch.setenv("ERASER_MODELS_DIR", str(tmp_path))
    data = migan_like(tmp_path / "made.onnx", trap="nan").read_bytes()
    (tmp_path / pin(monkeypatch, "migan", data).file).write_bytes(data)
    with pytest.raises(ModelError, match="failed its self-check: it answered NaN"):
        engines.get("migan").load()
    assert "failed its self-check: it answered NaN" in engines.get("auto").load().note


def cli_erase(tmp_path, model, mask=None):
    pixels = scene(640, 480)
    (tmp_path / "photo.png").write_bytes(encode(pixels))
    mask = blob(640, 480, (320, 240), 260) if mask is None else mask
    (tmp_path / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))
    start = time.monotonic()
    done = run_cli("erase", "photo.png", "mask.png", "-o", "out.png", "--engine", "migan",
                   "--model-file", model, cwd=tmp_path)
    return done, time.monotonic() - start


@pytest.mark.parametrize("model, message", [
    ("pipe.onnx", "is a pipe \\(FIFO\\), not a file"),
    ("loop.onnx", "took longer than 15 s to open and check"),
    ("greedy.onnx", "needed more memory than a model may use"),
    ("nan-later.onnx", "The MI-GAN model answered NaN or infinite values on one window of this photo"),
])
def test_the_cli_ends_with_one_error_line_and_exit_2(tmp_path, fifo, model, message):
    migan_like(tmp_path / "loop.onnx", trap="loop")
    migan_like(tmp_path / "greedy.onnx", trap="allocate")
    migan_like(tmp_path / "nan-later.onnx", trap="nan", over=LARGE_HOLE)
    done, seconds = cli_erase(tmp_path, model)
    assert seconds < BOUND
    assert done.returncode == 2 and not (tmp_path / "out.png").exists()
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert re.search(message, errors[0]), errors[0]
    assert done.stderr.strip().splitlines()[-1] == errors[0]  # nothing of ONNX Runtime's own after it

