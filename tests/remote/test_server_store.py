"""The result store's rules (docs/server.md): room is reserved before the erase and given back on
every path, a store near its cap refuses before the work, an unwritable store recovers by
itself, and no job, however it ends, leaves pieces of a photo in a temporary directory."""

from __future__ import annotations

import errno
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import requests

import eraser
from eraser.server import LocalDirStore
from eraser.server.settings import MB
from eraser.server.storage import PARTIAL, RESULT_MARGIN, StoreFull, result_bound
from eraser.server.workers import Workers
from tests.support.remote import (
    STALL_SECONDS,
    crashing_erase,
    dying_save_erase,
    encode,
    failing_erase,
    hanging_save_erase,
    make_app,
    mask_png,
    scene,
    serving,
    stalling_erase,
)

from .test_server import URL_TIMEOUT, assert_error, post, wait_for_in_flight
from .test_server_attacks import post_with_timeout


def on_disk(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.iterdir())


@contextmanager
def replaced_by_a_file(directory: Path):
    """The directory swapped for a regular file, so that every write inside it fails (ENOTDIR,
    which also stops root, unlike chmod), then put back as it was."""
    away = directory.with_name(directory.name + ".away")
    directory.rename(away)
    directory.write_bytes(b"not a directory")
    try:
        yield
    finally:
        directory.unlink()
        away.rename(directory)


def health(origin) -> dict:
    return requests.get(origin + "/health", timeout=URL_TIMEOUT).json()


@pytest.fixture
def good():
    photo, mask = scene()
    return encode(photo.pixels), mask_png(mask)


# -- the store on its own -------------------------------------------------------------------------

def test_a_reservation_is_held_then_counted_as_its_result_or_given_back(tmp_path):
    store = LocalDirStore(tmp_path, max_bytes=1_000_000)
    first, second = store.reservation(600_000), store.reservation(600_000)
    first.hold()
    assert store.reserved == 600_000
    with pytest.raises(StoreFull, match="600000 bytes needed, 400000 free"):
        second.hold()
    store.put(bytes(5000), "image/png", 100, first)
    assert store.reserved == 0 and store.used == on_disk(tmp_path) > 5000
    first.release()  # after put(): nothing left to give back
    second.hold()  # the room is free again
    second.release()
    second.release()
    assert store.reserved == 0
    late = store.reservation(1000)
    late.release()  # its request ended before its turn came
    with pytest.raises(StoreFull):
        late.hold()
    assert store.reserved == 0


def test_a_result_larger_than_its_room_takes_the_rest_only_when_free(tmp_path):
    store = LocalDirStore(tmp_path, max_bytes=100_000)
    room = store.reservation(10_000)
    room.hold()
    store.put(bytes(50_000), "image/png", 100, room)
    assert store.reserved == 0 and store.used == on_disk(tmp_path)
    room = store.reservation(10_000)
    room.hold()
    with pytest.raises(StoreFull):
        store.put(bytes(60_000), "image/png", 100, room)
    room.release()
    assert store.reserved == 0 and store.used == on_disk(tmp_path) and len(list(tmp_path.glob("*.bin"))) == 1


def test_full_means_a_typical_result_would_not_fit(tmp_path):
    store = LocalDirStore(tmp_path, max_bytes=1_000_000)
    assert store.typical() == RESULT_MARGIN and not store.full()  # no requests yet: the smallest
    for size in (100_000, 300_000):
        room = store.reservation(size)
        room.hold()
        room.release()
    assert store.typical() == 200_000
    store.put(bytes(750_000), "image/png", 100)
    assert not store.full()  # 249,9xx bytes free
    with pytest.raises(StoreFull):
        store.reservation(500_000).hold()  # refused, but it says what requests need now
    assert store.typical() == 300_000 and store.full()
    tiny = LocalDirStore(tmp_path / "tiny", max_bytes=10_000)
    with pytest.raises(StoreFull):
        tiny.reservation(5_000_000).hold()
    assert tiny.typical() == 10_000 and not tiny.full()  # at most the whole store: an empty one is not full


def test_the_bound_covers_the_largest_result_of_every_format():
    rng = np.random.default_rng(0)
    for mode, formats in (("RGB", [("JPEG", {"quality": 100, "subsampling": 0}), ("PNG", {}), ("BMP", {}),
                                   ("WEBP", {"lossless": True})]),
                          ("RGBA", [("PNG", {}), ("BMP", {}), ("WEBP", {"lossless": True})])):
        noise = rng.integers(0, 256, (300, 400, len(mode)), np.uint8)
        for fmt, options in formats:
            worst = encode(noise, fmt, **options)
            assert len(worst) < result_bound(0, 400, 300) - RESULT_MARGIN, (mode, fmt)


def test_an_unwritable_directory_refuses_until_it_can_be_written_again(tmp_path):
    results = tmp_path / "results"
    store = LocalDirStore(results)
    kept = store.put(b"kept", "image/png", 100)
    used = store.used
    with replaced_by_a_file(results):
        room = store.reservation(10_000)
        room.hold()
        with pytest.raises(StoreFull, match="the results directory cannot be written"):
            store.put(bytes(5000), "image/png", 100, room)
        room.release()
        assert store.full() and store.reserved == 0 and store.used == used
        store.recheck()
        assert store.full()  # still a file
        with pytest.raises(StoreFull, match="cannot be written"):
            store.reservation(10).hold()
    store.recheck()
    assert not store.full() and store.get(kept, now=0).data == b"kept"
    store.put(bytes(5000), "image/png", 100)
    assert store.used == on_disk(results) and store.reserved == 0


def test_a_partial_file_the_failing_directory_kept_goes_at_the_recheck(tmp_path, monkeypatch):
    store = LocalDirStore(tmp_path)
    write, unlink = Path.write_bytes, Path.unlink

    def write_some(path, data):
        if path.name.endswith(".bin" + PARTIAL):
            write(path, data[:100])  # some of the photo made it, then the disk went read-only
            raise OSError(errno.EROFS, "Read-only file system")
        return write(path, data)

    def refuse_partials(path, missing_ok=False):
        if path.name.endswith(PARTIAL):
            raise OSError(errno.EROFS, "Read-only file system")
        return unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "write_bytes", write_some)
    monkeypatch.setattr(Path, "unlink", refuse_partials)
    with pytest.raises(StoreFull, match="Read-only"):
        store.put(bytes(1000), "image/png", 100)
    monkeypatch.undo()
    left = list(tmp_path.iterdir())  # part of a result, until the directory can be written
    assert len(left) == 1 and left[0].name.endswith(".bin" + PARTIAL) and left[0].stat().st_size == 100
    assert store.full() and store.used == 0
    store.recheck()
    assert list(tmp_path.iterdir()) == [] and store.used == 0 and not store.full()


# -- the store in the server ----------------------------------------------------------------------

@pytest.mark.slow
def test_an_unwritable_store_refuses_then_recovers_without_a_restart(tmp_path, start, good):
    results = tmp_path / "results"
    store = LocalDirStore(results)
    origin = start(make_app(tmp_path, store=store))
    first = post(origin, *good).json()["data"]["image_url"]
    with replaced_by_a_file(results):
        assert_error(post(origin, *good), "AI_SERVICE_FLOW_RESTRICTION")  # erased, then not writable
        assert health(origin)["store_full"] is True
        refused = post(origin, *good)  # now refused at the door, before its body is read
        assert_error(refused, "AI_SERVICE_FLOW_RESTRICTION")
        assert refused.headers["Retry-After"] == "1"
        time.sleep(1.5)  # rechecked meanwhile, and still not writable
        assert health(origin)["store_full"] is True
        assert store.reserved == 0
    deadline = time.monotonic() + 5
    while health(origin)["store_full"]:
        assert time.monotonic() < deadline, "the store never recovered"
        time.sleep(0.1)
    response = post(origin, *good)
    assert response.status_code == 200
    assert requests.get(first, timeout=URL_TIMEOUT).status_code == 200
    assert requests.get(response.json()["data"]["image_url"], timeout=URL_TIMEOUT).status_code == 200
    assert store.reserved == 0 and store.used == on_disk(results)


@pytest.mark.slow
def test_a_store_near_its_cap_refuses_before_the_erase_runs(tmp_path, start):
    results = tmp_path / "results"
    results.mkdir()
    (results / "filler.bin").write_bytes(bytes(MB - 300_000))
    store = LocalDirStore(results, MB)
    origin = start(make_app(tmp_path, store=store, erase=stalling_erase, workers=1))
    photo, mask = scene(320, 240)
    image = encode(photo.pixels)
    assert result_bound(len(image), 320, 240) > 300_000  # what its result could take: more than is free
    assert health(origin)["store_full"] is False  # a smaller photo's would fit
    began = time.monotonic()
    assert_error(post(origin, image, mask_png(mask)), "AI_SERVICE_FLOW_RESTRICTION")
    assert time.monotonic() - began < STALL_SECONDS / 2  # the erase would have taken STALL_SECONDS
    now = health(origin)
    assert now["store_full"] is True and now["stopped_jobs"] == 0 and now["in_flight"] == 0
    assert [p.name for p in results.iterdir()] == ["filler.bin"] and store.reserved == 0


class WatchedStore(LocalDirStore):
    """Remembers the room each request held."""

    held: list[int]

    def _hold(self, room):
        super()._hold(room)
        self.held = [*getattr(self, "held", []), self.reserved]


@pytest.mark.slow
@pytest.mark.parametrize("erase, options, code", [
    (eraser.erase, {}, None),
    (failing_erase, {}, "PROCESSING_FAILURE"),
    (crashing_erase, {}, "SERVICE_INTERNAL_ERROR"),
    (stalling_erase, {"job_timeout": 0.5}, "AI_SERVICE_TIMEOUT"),
])
def test_every_ending_gives_the_room_back(tmp_path, start, good, erase, options, code):
    store = WatchedStore(tmp_path / "results", 10 * MB)
    response = post(start(make_app(tmp_path, store=store, erase=erase, **options)), *good)
    if code:
        assert_error(response, code)
    else:
        assert response.status_code == 200
    assert store.held == [result_bound(len(good[0]), 160, 120)]  # held while the erase ran
    assert store.reserved == 0 and store.used == on_disk(tmp_path / "results")


@pytest.mark.slow
def test_a_client_that_hangs_up_gives_the_room_back(tmp_path, start, good):
    store = LocalDirStore(tmp_path / "results")
    origin = start(make_app(tmp_path, store=store, erase=stalling_erase, workers=1))
    outcome = []

    def give_up():
        try:
            post_with_timeout(origin, good, 1.0)
        except requests.Timeout as error:
            outcome.append(error)

    gave_up = threading.Thread(target=give_up)
    gave_up.start()
    wait_for_in_flight(origin, 1)
    deadline = time.monotonic() + STALL_SECONDS
    while store.reserved == 0:  # its turn came: the room is held
        assert time.monotonic() < deadline
        time.sleep(0.02)
    gave_up.join(URL_TIMEOUT)
    assert outcome, "the client did not give up"
    while store.reserved or health(origin)["stopped_jobs"] == 0:
        assert time.monotonic() < deadline, "the request whose client left kept its room, or its erase"
        time.sleep(0.02)
    assert list((tmp_path / "results").iterdir()) == []


# -- temporary files --------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("erase, code", [(hanging_save_erase, "AI_SERVICE_TIMEOUT"),
                                         (dying_save_erase, "SERVICE_INTERNAL_ERROR")])
def test_a_job_stopped_mid_save_leaves_no_photo_bytes(tmp_path, monkeypatch, erase, code):
    system_tmp = Path(tempfile.gettempdir())  # where the worker processes would write otherwise
    started = Workers(1, 1.0)
    started.prestart()  # multiprocessing's forkserver starts now (if not yet), its socket in system_tmp
    started.close()
    ours = tmp_path / "tmp"
    ours.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(ours))  # the server's TMPDIR
    noise = np.random.default_rng(int(time.time())).integers(0, 256, (192, 256, 3), np.uint8)
    image = encode(noise, "JPEG", quality=90)  # bytes no other test sends
    mask = np.zeros((192, 256), bool)
    mask[60:120, 80:160] = True
    copies = set()
    with serving(make_app(tmp_path, erase=erase, workers=1, job_timeout=4)) as origin:
        answer = {}
        job = threading.Thread(target=lambda: answer.update(response=post(origin, image, mask_png(mask))))
        job.start()
        while job.is_alive():  # what the job writes, and where
            copies |= {path.relative_to(ours) for path in _files(_walk(ours, "eraser-jpeg-*/*"))
                       if _read(path) == image}
            time.sleep(0.05)
        assert_error(answer["response"], code)
        assert copies, "the save never copied the photo into the job's own directory"
        assert all(path.parts[1].startswith("job-") for path in copies), copies
        assert _files(ours.rglob("*")) == [] and not list(ours.rglob("eraser-jpeg-*")), list(ours.rglob("*"))
        assert not list(ours.rglob("job-*"))
    assert list(ours.iterdir()) == []  # the server's own directory goes when it stops
    assert not [path for path in _files(system_tmp.glob("eraser-jpeg-*/*")) if _read(path) == image]


def _walk(root: Path, pattern: str) -> list[Path]:
    """What matches now; nothing this time when a directory goes while it is walked (the next look sees)."""
    try:
        return list(root.rglob(pattern))
    except FileNotFoundError:
        return []


def _files(paths) -> list[Path]:
    return [path for path in paths if path.is_file()]


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:  # removed meanwhile
        return None
