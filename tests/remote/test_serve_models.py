"""The server gets its engine's model at start-up, not during the first request, and its erase
workers open the model before their first job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from eraser import engines
from eraser.engines import learned
from eraser.server.run import prepare_engine
from eraser.server.workers import Workers
from tests.support import ROOT, free_port
from tests.support.model_host import hosted_migan


def serve_refused(tmp_path, **env):
    """`python -m eraser serve` with settings that must stop it before it listens."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), "ERASER_API_KEYS": "k",
            "ERASER_RESULT_DIR": str(tmp_path / "results"), "ERASER_MODELS_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, "-m", "eraser", "serve", "--port", str(free_port())],
                          capture_output=True, text=True, cwd=tmp_path, env=full, timeout=20)


@pytest.mark.slow
def test_a_server_whose_model_cannot_be_had_does_not_start(tmp_path):
    done = serve_refused(tmp_path, ERASER_ENGINE="lama", ERASER_OFFLINE="1")
    assert done.returncode == 2
    assert done.stderr.startswith("error: The LaMa model is not on this machine and downloads are off")
    assert len(done.stderr.strip().splitlines()) == 1


def test_fetching_at_start_up_downloads_checks_and_leaves_no_session_behind(tmp_path, monkeypatch):
    with hosted_migan(monkeypatch, tmp_path / "host", tmp_path / "models") as data:
        seen = []
        assert prepare_engine("migan", lambda done, total: seen.append(done)) == ""
        assert (tmp_path / "models" / "migan_pipeline_v2.onnx").read_bytes() == data
        assert seen[-1] == len(data)
        assert learned._sessions == {}  # the serving process itself never erases


def test_auto_without_its_model_starts_with_a_note(monkeypatch):
    note = prepare_engine("auto")  # the tests run offline with an empty models directory
    assert note.endswith("Objects are filled with PatchMatch instead.")


def record_pid(folder: str) -> None:
    (Path(folder) / str(os.getpid())).touch()


def record_module(folder: str, name: str) -> None:
    (Path(folder) / f"{name in sys.modules}").touch()


@pytest.mark.slow
def test_the_workers_forkserver_imports_the_engine_once_for_all_of_them(tmp_path):
    # Each worker finds the engine's module imported before it does anything (fork, not import).
    workers = Workers(2, 10, warm_up=(record_module, str(tmp_path), "eraser.engines.telea"),
                      preload=engines.modules("telea"))
    try:
        workers.prestart()
        assert [path.name for path in tmp_path.iterdir()] == ["True"]
    finally:
        workers.close()


@pytest.mark.slow
def test_every_worker_process_warms_up_before_its_first_job(tmp_path):
    workers = Workers(2, 10, warm_up=(record_pid, str(tmp_path)))
    try:
        workers.prestart()
        assert len(list(tmp_path.iterdir())) == 2
    finally:
        workers.close()
