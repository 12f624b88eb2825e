"""`python -m eraser batch` on folders the tests make: one mask for all, masks by name, bad photos
among good ones, resuming, overwriting, several workers, and a compatible server (--remote)."""

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eraser import batch
from tests.support import ROOT
from tests.support.photos import blob, encode, scene
from tests.support.remote import KEY, make_app, serving
from tests.unit.cli import run_cli

pytestmark = pytest.mark.slow  # each test runs the command with its worker processes

W, H = 160, 120
MASK = blob(W, H, (80, 80), 30)
OTHER_MASK = blob(W, H, (40, 40), 24)


def _png(mask: np.ndarray) -> bytes:
    return encode(mask.astype(np.uint8) * 255)


def _photos(folder: Path, names: list[str], size=(W, H)) -> dict[str, np.ndarray]:
    """Photos named `names` (format by extension), each a different scene; their pixels by name."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for seed, name in enumerate(names):
        pixels = scene(*size, seed=seed)
        fmt = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "bmp": "BMP"}[name.rsplit(".", 1)[1]]
        (folder / name).write_bytes(encode(pixels, fmt, **({"lossless": True} if fmt == "WEBP" else {})))
        made[name] = pixels
    return made


def _pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _erased_only_under(out: np.ndarray, before: np.ndarray, mask: np.ndarray) -> None:
    assert out.shape == before.shape
    assert np.array_equal(out[~mask], before[~mask])  # outside the mask: bit-identical
    assert not np.array_equal(out[mask], before[mask])  # under it: filled


def _summary(run) -> str:
    return run.stdout.splitlines()[0]


def _failures(run) -> dict[str, str]:
    lines = [line.removeprefix("failed ") for line in run.stdout.splitlines()[1:] if line.startswith("failed ")]
    return dict(line.split(": ", 1) for line in lines)


def test_one_mask_for_every_photo(tmp_path):
    photos = _photos(tmp_path / "in", ["a.png", "b.png", "c.webp", "d.jpg"])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    run = run_cli("batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "telea", "--grow", "0", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _summary(run) == "4 done, 0 skipped, 0 failed; outputs in out"
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["a_erased.png", "b_erased.png", "c_erased.webp", "d_erased.jpg"]
    for name in ("a.png", "b.png", "c.webp"):  # lossless: every pixel outside the mask is the photo's
        _erased_only_under(_pixels(out / name.replace(".", "_erased.")), photos[name], MASK)
    jpeg = Image.open(out / "d_erased.jpg")
    assert jpeg.format == "JPEG" and jpeg.size == (W, H)
    assert not np.array_equal(np.asarray(jpeg)[MASK], _pixels(tmp_path / "in" / "d.jpg")[MASK])


def test_masks_by_name_in_both_forms(tmp_path):
    photos = _photos(tmp_path / "in", ["a.png", "b.png", "c.png", "d.png"])
    masks = tmp_path / "masks"
    masks.mkdir()
    (masks / "a.png").write_bytes(_png(MASK))
    (masks / "b_mask.png").write_bytes(_png(OTHER_MASK))
    (masks / "d.png").write_bytes(_png(MASK))
    (masks / "d_mask.bmp").write_bytes(encode(OTHER_MASK.astype(np.uint8) * 255, "BMP"))
    run = run_cli("batch", "in", "-o", "out", "--masks", "masks", "--engine", "telea", "--grow", "0", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert _summary(run) == "2 done, 0 skipped, 2 failed; outputs in out"
    _erased_only_under(_pixels(tmp_path / "out/a_erased.png"), photos["a.png"], MASK)
    _erased_only_under(_pixels(tmp_path / "out/b_erased.png"), photos["b.png"], OTHER_MASK)
    assert _failures(run) == {
        "c.png": "There is no mask for it in 'masks': add c.png or c_mask.png.",
        "d.png": "Several masks match it (d.png, d_mask.bmp): keep one.",
    }


def test_masks_beside_the_photos_and_results_among_them(tmp_path):
    """One folder for all: a_mask.png is not taken for a photo, nor a_erased.png on a second run."""
    photos = _photos(tmp_path / "shoot", ["a.png"])
    (tmp_path / "shoot/a_mask.png").write_bytes(_png(MASK))
    for expected in ("1 done, 0 skipped", "0 done, 1 skipped"):
        run = run_cli("batch", "shoot", "-o", "shoot", "--masks", "shoot", "--engine", "telea", "--grow", "0",
                      cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        assert _summary(run).startswith(expected) and ", 0 failed;" in _summary(run)
    _erased_only_under(_pixels(tmp_path / "shoot/a_erased.png"), photos["a.png"], MASK)


def test_a_corrupt_photo_is_reported_and_the_others_are_done(tmp_path):
    _photos(tmp_path / "in", ["a.png", "c.png"])
    (tmp_path / "in/b.jpg").write_bytes(encode(scene(W, H), "JPEG")[:300])  # cut off
    (tmp_path / "in/notes.txt").write_text("not a photo: not even looked at")
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    run = run_cli("batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "telea", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert _summary(run) == "2 done, 0 skipped, 1 failed; outputs in out"
    assert _failures(run) == {"b.jpg": "The photo file is damaged or incomplete and cannot be read. "
                                       "Export or download it again."}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_erased.png", "c_erased.png"]
    assert "Traceback" not in run.stderr


def test_a_photo_of_another_size_is_reported_not_stretched(tmp_path):
    _photos(tmp_path / "in", ["a.png"])
    _photos(tmp_path / "in", ["b.png"], size=(2 * W, 2 * H))  # same shape, twice the size
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    run = run_cli("batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "telea", cwd=tmp_path)
    assert run.returncode == 1
    assert _failures(run) == {"b.png": f"The photo is {2 * W}x{2 * H} pixels but the mask is {W}x{H}: one mask "
                                       "serves only photos of its size. Give this photo its own mask (--masks)."}
    assert not (tmp_path / "out/b_erased.png").exists() and (tmp_path / "out/a_erased.png").exists()


def test_a_stopped_batch_resumes_without_redoing_what_is_done(tmp_path):
    _photos(tmp_path / "in", ["a.png", "b.jpg", "c.png"])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    args = ("batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "telea")
    assert run_cli(*args, cwd=tmp_path).returncode == 0
    out = tmp_path / "out"
    first = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in out.iterdir()}
    # As a batch stopped in the middle leaves it: c's result not written, a temporary file left.
    (out / "c_erased.png").unlink()
    (out / ".c_erased.png.1a2b3c4d.part").write_bytes(b"half a photo")
    run = run_cli(*args, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _summary(run) == ("1 done, 2 skipped (their output was there already: --overwrite redoes them), "
                             "0 failed; outputs in out")
    for name in ("a_erased.png", "b_erased.jpg"):  # not written again
        assert (out / name).read_bytes() == first[name][0] and (out / name).stat().st_mtime_ns == first[name][1]
    assert (out / "c_erased.png").read_bytes() == first["c_erased.png"][0]


def test_overwrite_redoes_existing_outputs(tmp_path):
    photos = _photos(tmp_path / "in", ["a.png"])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    (tmp_path / "out").mkdir()
    (tmp_path / "out/a_erased.png").write_bytes(b"an old result")
    args = ("batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "telea", "--grow", "0")
    assert _summary(run_cli(*args, cwd=tmp_path)).startswith("0 done, 1 skipped")
    assert (tmp_path / "out/a_erased.png").read_bytes() == b"an old result"
    run = run_cli(*args, "--overwrite", cwd=tmp_path)
    assert run.returncode == 0 and _summary(run) == "1 done, 0 skipped, 0 failed; outputs in out"
    _erased_only_under(_pixels(tmp_path / "out/a_erased.png"), photos["a.png"], MASK)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a_erased.png"]  # no temporary file left


def test_two_workers_give_the_same_results_as_one(tmp_path):
    names = [f"p{i}.png" for i in range(5)] + ["q.jpg"]
    _photos(tmp_path / "in", names)
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    results = {}
    for workers in ("1", "2"):
        run = run_cli("batch", "in", "-o", f"out{workers}", "--mask", "mask.png", "--engine", "telea",
                      "--workers", workers, cwd=tmp_path)
        assert run.returncode == 0 and _summary(run).startswith("6 done"), run.stderr
        results[workers] = {p.name: p.read_bytes() for p in (tmp_path / f"out{workers}").iterdir()}
    assert len(results["2"]) == 6 and results["1"] == results["2"]


def test_two_photos_with_one_output_name(tmp_path):
    _photos(tmp_path / "in", ["a.jpeg", "a.jpg"])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    run = run_cli("batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "telea", cwd=tmp_path)
    assert run.returncode == 1
    assert _failures(run) == {"a.jpg": "Its output, a_erased.jpg, would also be the output of a.jpeg: "
                                       "rename one of the two photos."}


@pytest.mark.parametrize("args, words", [
    (["in", "-o", "out"], "one of the arguments --mask --masks is required"),
    (["in", "-o", "out", "--mask", "mask.png", "--masks", "in"], "not allowed with argument"),
    (["missing", "-o", "out", "--mask", "mask.png"], "The photos folder 'missing' does not exist."),
    (["empty", "-o", "out", "--mask", "mask.png"], "There are no photos"),
    (["in", "-o", "out", "--mask", "blank.png"], "The mask is empty"),
    (["in", "-o", "out", "--mask", "nothing.png"], "Cannot read the mask 'nothing.png'"),
    (["in", "-o", "out", "--masks", "in", "--grow", "500"], "Grow must be between 0 and 100 pixels"),
    (["in", "-o", "mask.png", "--mask", "mask.png"], "The output folder 'mask.png' is a file"),
    (["in", "-o", "out", "--mask", "mask.png", "--workers", "0"], "workers must be between 1 and 64"),
    (["in", "-o", "out", "--mask", "mask.png", "--remote", "http://127.0.0.1:9", "--engine", "telea"],
     "With --remote the server chooses the engine"),
    (["in", "-o", "out", "--mask", "mask.png", "--remote", "http://example.com"],
     "The --remote address must be a plain https:// address"),
])
def test_bad_arguments_are_one_error_line_and_exit_2(tmp_path, monkeypatch, args, words):
    monkeypatch.setenv("AILAB_API_KEY", KEY)  # so that --remote's address is what gets checked
    _photos(tmp_path / "in", ["a.png"])
    (tmp_path / "empty").mkdir()
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    (tmp_path / "blank.png").write_bytes(_png(np.zeros((H, W), bool)))
    run = run_cli("batch", *args, cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], run.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_ctrl_c_stops_the_batch_and_the_same_command_goes_on(tmp_path):
    _photos(tmp_path / "in", [f"p{i}.png" for i in range(8)], size=(4 * W, 4 * H))
    (tmp_path / "mask.png").write_bytes(_png(blob(4 * W, 4 * H, (320, 320), 120)))
    args = ["batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "patchmatch", "--workers", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Its own process group, as a terminal's Ctrl-C reaches the command and its workers.
    child = subprocess.Popen([sys.executable, "-m", "eraser", *args], cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not list((tmp_path / "out").glob("*_erased.png")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(child.pid, signal.SIGINT)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stdout + stderr
    assert stderr.strip().startswith("stopped after") and "Traceback" not in stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert 1 <= len(written) < 8 and all(name.endswith("_erased.png") for name in written)  # no half file
    run = run_cli(*args[:-4], "--engine", "telea", cwd=tmp_path)  # the quick engine for the rest
    assert run.returncode == 0
    assert _summary(run).startswith(f"{8 - len(written)} done, {len(written)} skipped")
    assert len(list((tmp_path / "out").iterdir())) == 8


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_photo(tmp_path, monkeypatch):
    _photos(tmp_path / "in", ["a.png"])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    monkeypatch.setattr(batch.os, "access", lambda path, mode: False)  # as for a folder of someone else's
    with pytest.raises(batch.EraserError, match="Cannot write into the output folder"):
        batch.Batch(tmp_path / "in", tmp_path / "out", mask=tmp_path / "mask.png")


# -- a worker process that dies ------------------------------------------------------------------

def crash_on_boom(job: batch.Job) -> batch.Outcome:
    """Runs in a worker process: dies as a segfault would, for the photo named boom."""
    if job.photo.stem == "boom":
        os._exit(70)
    return batch._erase_in_process(job)


def test_a_worker_that_dies_costs_only_its_photo(tmp_path):
    _photos(tmp_path / "in", ["a.png", "b.png", "boom.png", "c.png", "d.png"])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    made = batch.Batch(tmp_path / "in", tmp_path / "out", mask=tmp_path / "mask.png", grow=0)
    settings = batch.Settings("telea")
    outcomes = list(batch._pooled(lambda n: batch._process_pool(n, made.shared, settings),
                                  crash_on_boom, made.jobs, 2))
    by_photo = {o.photo: o for o in outcomes}
    assert len(outcomes) == 5 and by_photo["boom.png"].status == batch.FAILED
    assert by_photo["boom.png"].reason == batch.CRASHED
    assert all(by_photo[n].status == batch.DONE for n in ("a.png", "b.png", "c.png", "d.png"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_erased.png", "b_erased.png",
                                                                     "c_erased.png", "d_erased.png"]


# -- through a compatible server -----------------------------------------------------------------

def test_remote_batch_through_our_own_server(tmp_path, monkeypatch):
    photos = _photos(tmp_path / "in", ["a.png", "b.png", "c.jpg"])
    (tmp_path / "in/bad.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    monkeypatch.setenv("AILAB_API_KEY", KEY)
    with serving(make_app(tmp_path)) as origin:
        run = run_cli("batch", "in", "-o", "out", "--mask", "mask.png", "--grow", "0", "--remote", origin,
                      "--workers", "2", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert _summary(run) == "3 done, 0 skipped, 1 failed; outputs in out"
    assert list(_failures(run)) == ["bad.png"]
    for name in ("a.png", "b.png"):
        _erased_only_under(_pixels(tmp_path / "out" / name.replace(".", "_erased.")), photos[name], MASK)
    assert Image.open(io.BytesIO((tmp_path / "out/c_erased.jpg").read_bytes())).format == "JPEG"
    assert KEY not in run.stdout + run.stderr


class CountingPosts:
    """Wraps an ASGI app: every POST takes at least 0.3 s more, and the most at once is kept."""

    def __init__(self, app):
        self.app, self.now, self.most = app, 0, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.3)
            return await self.app(scope, receive, send)
        finally:
            self.now -= 1


@pytest.mark.parametrize("workers", [1, 3])
def test_remote_requests_at_once_are_bounded_by_workers(tmp_path, workers):
    _photos(tmp_path / "in", [f"p{i}.png" for i in range(6)])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    counting = CountingPosts(make_app(tmp_path))
    counting.state = counting.app.state  # served with our server's connection limits
    with serving(counting) as origin:
        made = batch.Batch(tmp_path / "in", tmp_path / "out", mask=tmp_path / "mask.png")
        outcomes = list(made.run_remote(origin, workers=workers, api_key=KEY))
    assert [o.status for o in outcomes] == [batch.DONE] * 6
    assert counting.most == workers


def test_remote_batch_without_a_key_is_refused(tmp_path, monkeypatch):
    _photos(tmp_path / "in", ["a.png"])
    (tmp_path / "mask.png").write_bytes(_png(MASK))
    monkeypatch.delenv("AILAB_API_KEY", raising=False)
    run = run_cli("batch", "in", "-o", "out", "--mask", "mask.png", "--remote", "http://127.0.0.1:9", cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.startswith("error:") and "AILAB_API_KEY" in run.stderr


def test_keep_out_reaches_every_photo_and_is_refused_with_remote(tmp_path):
    from tests.unit.test_keep_out import yellow_scene, yellowish

    photo, hole, yellow = yellow_scene()
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        (folder / name).write_bytes(photo.encode("PNG"))
    (tmp_path / "mask.png").write_bytes(_png(hole))
    (tmp_path / "keep.png").write_bytes(_png(yellow))
    args = ("batch", "in", "-o", "out", "--mask", "mask.png", "--engine", "patchmatch", "--grow", "0")
    run = run_cli(*args, "--keep-out", "keep.png", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for name in ("a_erased.png", "b_erased.png"):
        erased = _pixels(tmp_path / "out" / name)
        assert yellowish(erased)[hole].sum() == 0  # the only yellow was kept out of every fill
        assert np.array_equal(erased[~hole], photo.pixels[~hole])
    remote = run_cli(*args[:6], "--keep-out", "keep.png", "--remote", "http://127.0.0.1:9", "--overwrite",
                     cwd=tmp_path)
    assert remote.returncode == 2 and remote.stderr.strip().startswith("error:") and "--keep-out" in remote.stderr
