"""The server's bounds that are not about connections: the result store's size, partial files,
and settings checked at start with one `error:` line each."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from eraser.server import LocalDirStore, Settings, create_app
from eraser.server.settings import SettingsError
from eraser.server.storage import RESULT_MARGIN, StoreFull
from tests.support import ROOT, free_port
from tests.support.remote import KEY, encode, make_app, mask_png, scene

from .test_server import assert_error, post


def test_the_store_refuses_past_its_size(tmp_path):
    store = LocalDirStore(tmp_path, max_bytes=10_000)
    kept = [store.put(bytes(3000), "image/png", 100) for _ in range(3)]
    with pytest.raises(StoreFull):
        store.put(bytes(3000), "image/png", 100)
    assert store.used == sum(p.stat().st_size for p in tmp_path.iterdir())
    assert store.full()  # 865 bytes left: less than the smallest result's reservation
    store.put(bytes(500), "image/png", 100)
    assert store.purge(now=100) == 4 and store.used == 0 and not any(tmp_path.iterdir())
    assert len(kept) == 3


def test_usage_survives_a_restart_and_leftover_partials_go(tmp_path):
    store = LocalDirStore(tmp_path)
    store.put(bytes(1000), "image/png", 100)
    (tmp_path / ".abc.bin.partial").write_bytes(bytes(5000))  # a crash mid-write
    again = LocalDirStore(tmp_path, max_bytes=store.used + RESULT_MARGIN)
    assert again.used == store.used and not list(tmp_path.glob("*.partial"))
    assert not again.full()  # room for the smallest result: the partial file was not counted


def test_a_full_disk_leaves_no_partial_files(tmp_path, monkeypatch):
    store = LocalDirStore(tmp_path)
    real = Path.write_bytes

    def disk_full(path, data):
        if path.name.endswith(".bin.partial"):
            real(path, data[:10])  # some bytes made it, then the disk filled
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(StoreFull, match="No space left"):
        store.put(bytes(1000), "image/png", 100)
    assert list(tmp_path.iterdir()) == [] and store.used == 0


def test_a_full_store_refuses_new_work_with_flow_restriction(tmp_path, start):
    photo, mask = scene()
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "filler.bin").write_bytes(bytes(2**20))  # counted at start
    origin = start(make_app(tmp_path, store_mb=1))
    response = post(origin, encode(photo.pixels), mask_png(mask))
    assert_error(response, "AI_SERVICE_FLOW_RESTRICTION")
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["filler.bin"]


@pytest.mark.parametrize("field, value", [
    ("result_ttl", float("nan")), ("result_ttl", float("inf")), ("result_ttl", -1), ("result_ttl", 0),
    ("max_queue", -100), ("workers", 0), ("header_timeout", 0), ("job_timeout", float("nan")),
    ("store_mb", 0), ("upload_mb", 1), ("max_connections", -5),
])
def test_settings_out_of_range_are_refused(tmp_path, field, value):
    with pytest.raises(SettingsError) as caught:
        Settings(api_keys=(KEY,), result_dir=tmp_path, **{field: value})
    assert len(caught.value.problems) == 1 and "must be a number of" in caught.value.problems[0]


def test_settings_from_env_report_every_problem():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"ERASER_RESULT_TTL": "nan", "ERASER_MAX_QUEUE": "-100", "ERASER_WORKERS": "two",
                           "ERASER_ENGINE": "foo", "ERASER_PUBLIC_URL": "erase.example.org/x"})
    problems = caught.value.problems
    assert len(problems) == 5 and str(caught.value).count("\nerror: ") == 4
    assert any(p.startswith("ERASER_WORKERS must be a number, not 'two'") for p in problems)
    assert any(p.startswith("ERASER_RESULT_TTL must be a number of seconds from 1") for p in problems)


def serve(tmp_path, **variables):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERASER_")}
    env.update(PYTHONPATH=str(ROOT), ERASER_API_KEYS="k", **variables)
    return subprocess.run([sys.executable, "-m", "eraser", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)


@pytest.mark.slow
def test_serve_prints_one_error_line_per_bad_setting(tmp_path):
    done = serve(tmp_path, ERASER_RESULT_TTL="nan", ERASER_MAX_QUEUE="-100", ERASER_JOB_TIMEOUT="inf")
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and len(lines) == 3, done.stderr
    assert all(line.startswith("error: ERASER_") for line in lines), done.stderr


@pytest.mark.slow
def test_serve_says_when_the_result_dir_cannot_be_made(tmp_path):
    (tmp_path / "a-file").write_text("not a directory")
    done = serve(tmp_path, ERASER_RESULT_DIR=str(tmp_path / "a-file" / "results"))
    assert done.returncode == 2 and done.stderr.startswith("error: ERASER_RESULT_DIR '")
    assert "cannot be created or written" in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


def test_create_app_takes_a_ready_store(tmp_path):
    app = create_app(Settings(api_keys=(KEY,), result_dir=tmp_path / "unused"), store=LocalDirStore(tmp_path / "s"))
    assert app.state.settings.api_keys == (KEY,) and not (tmp_path / "unused").exists()
