"""The library imports what an erase uses when it uses it: ONNX Runtime (a quarter of a second
at every start) only once a learned engine opens a model, the download and batch machinery
only for those jobs, and OpenSSL's hashes only to check a model file. Each check runs in a fresh
interpreter, where sys.modules starts empty."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.support import ROOT
from tests.support.onnx_models import migan_like
from tests.support.photos import blob, encode, scene

HEAVY = ["onnxruntime", "onnx", "requests", "jpeglib", "multiprocessing", "tqdm", "hashlib"]

CHILD = """
import json, sys
from pathlib import Path

def loaded():
    return sorted(name for name in HEAVY if name in sys.modules)

import eraser
seen = {"import eraser": loaded()}
eraser.engines.get("auto")
seen["engines.get('auto')"] = loaded()
photo = eraser.Photo.open(Path("photo.png").read_bytes())
mask = eraser.load_mask(Path("mask.png").read_bytes(), photo.size)
for name in ("auto", "patchmatch", "telea"):  # auto: no model here, objects go to PatchMatch
    Path(f"{name}.png").write_bytes(eraser.erase(photo, mask, engine=name).encode())
seen["classic erases"] = loaded()
seen["modules before"] = eraser.engines.modules("migan")
model = sys.argv[1]
filled = eraser.erase(photo, mask, engine=eraser.engines.get("migan", model))
seen["learned erase"] = loaded()
seen["filled by"] = filled.filled_by
seen["modules after"] = eraser.engines.modules("migan")
print(json.dumps(seen))
"""


@pytest.mark.slow
def test_onnx_runtime_is_imported_only_when_a_learned_engine_runs(tmp_path):
    (tmp_path / "photo.png").write_bytes(encode(scene(320, 240)))
    (tmp_path / "mask.png").write_bytes(encode(blob(320, 240, (160, 150), 60).astype(np.uint8) * 255))
    model = migan_like(tmp_path / "migan.onnx")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERASER_OFFLINE": "1", "ERASER_MODELS_DIR": str(tmp_path / "models")}
    code = f"HEAVY = {HEAVY!r}\n{CHILD}"
    done = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["import eraser"] == []
    assert seen["engines.get('auto')"] == []
    assert seen["classic erases"] == []  # PNG in and out: no coefficients to keep either
    # The same check sees ONNX Runtime once a learned engine has run, and that engine works.
    assert "onnxruntime" in seen["learned erase"] and seen["filled by"] == "MI-GAN"
    # What a forkserver imports once for its workers follows: ONNX Runtime once a model was opened.
    assert seen["modules before"] == ["eraser.engines.migan"]
    assert seen["modules after"] == ["eraser.engines.migan", "onnxruntime", "onnx"]
    assert all((tmp_path / f"{name}.png").stat().st_size > 0 for name in ("auto", "patchmatch", "telea"))


def test_listing_the_engines_imports_none_of_them():
    code = ("import sys; from eraser import engines; names = engines.names(); "
            "print(names, sorted(m for m in sys.modules if m.startswith('eraser.engines.')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['auto', 'migan', 'lama', 'patchmatch', 'telea'] []"


def test_the_learned_list_names_the_engines_that_run_a_model():
    from eraser import engines
    from eraser.engines.learned import LearnedEngine

    assert engines.LEARNED == [name for name in engines.names() if issubclass(engines.kind(name), LearnedEngine)]


def test_a_scaled_down_fill_does_not_import_numpy_ma(tmp_path):
    # A 220 px object makes a window larger than PatchMatch's working size: its fill is scaled back
    # up and given the photo's grain, measured with medians (np.median would import numpy.ma).
    (tmp_path / "photo.png").write_bytes(encode(scene(640, 480)))
    (tmp_path / "mask.png").write_bytes(encode(blob(640, 480, (320, 240), 220).astype(np.uint8) * 255))
    code = ("import sys; from pathlib import Path; import eraser; "
            "photo = eraser.Photo.open(Path('photo.png').read_bytes()); "
            "mask = eraser.load_mask(Path('mask.png').read_bytes(), photo.size); "
            "result = eraser.erase(photo, mask, engine='patchmatch', grow=0); "
            "print(result.filled_by, 'numpy.ma' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "PatchMatch False"
