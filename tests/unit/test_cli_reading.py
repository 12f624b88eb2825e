"""The CLI reads files by stat and stream: never more than the 50 MB cap + 1 byte, whatever it
is given (huge files, /dev/zero, pipes, folders), and never a traceback."""

import os
import threading

import numpy as np
import pytest

from eraser import cli, files
from tests.support.photos import blob, encode, scene
from tests.unit.limits import run_limited

PHOTO = encode(scene(96, 64))
MASK = encode(blob(96, 64, (48, 32), 16).astype(np.uint8) * 255)


def _one_error_line(run, words: str) -> None:
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], run.stderr


@pytest.mark.slow
def test_a_huge_file_is_refused_from_its_size_without_reading_it(tmp_path):
    big = tmp_path / "huge.jpg"
    with open(big, "wb") as f:
        f.truncate(3 * 2**30)  # 3 GB, sparse: costs no disk
    (tmp_path / "mask.png").write_bytes(MASK)
    run = run_limited("erase", big, "mask.png", cwd=tmp_path)
    _one_error_line(run, "larger than 50 MB")
    assert run.peak_mb < 300


@pytest.mark.slow
def test_dev_zero_stops_at_the_cap(tmp_path):
    (tmp_path / "mask.png").write_bytes(MASK)
    run = run_limited("erase", "/dev/zero", "mask.png", "-o", "out.png", cwd=tmp_path)
    _one_error_line(run, "larger than 50 MB")
    assert run.peak_mb < 400 and not (tmp_path / "out.png").exists()


@pytest.mark.slow
def test_a_folder_is_named_as_one(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "mask.png").write_bytes(MASK)
    _one_error_line(run_limited("erase", "photos", "mask.png", cwd=tmp_path), "it is a folder, not a file")


@pytest.mark.slow
def test_a_photo_from_a_pipe_is_erased(tmp_path):
    fifo = tmp_path / "photo.fifo"
    os.mkfifo(fifo)
    (tmp_path / "mask.png").write_bytes(MASK)
    writer = threading.Thread(target=fifo.write_bytes, args=(PHOTO,))
    writer.start()
    run = run_limited("erase", fifo, "mask.png", "-o", "out.png", cwd=tmp_path)
    writer.join()
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out.png").stat().st_size > 0


def test_a_pipe_nobody_writes_to_times_out(tmp_path, monkeypatch, capsys):
    fifo = tmp_path / "silent.fifo"
    os.mkfifo(fifo)
    (tmp_path / "mask.png").write_bytes(MASK)
    monkeypatch.setattr(files, "READ_SECONDS", 0.3)
    assert cli.main(["erase", str(fifo), str(tmp_path / "mask.png")]) == 2
    assert capsys.readouterr().err.startswith("error: Reading the image")


@pytest.mark.parametrize("size", [0, 1, 2**20])
def test_reads_stop_one_byte_past_the_cap(tmp_path, monkeypatch, size):
    monkeypatch.setattr(files, "MAX_FILE_BYTES", size)
    path = tmp_path / "f"
    path.write_bytes(b"x" * size)
    assert files.read(str(path), "image") == b"x" * size
    path.write_bytes(b"x" * (size + 1))
    with pytest.raises(files.EraserError, match="larger than"):
        files.read(str(path), "image")
