"""The package as pip installs it: its metadata, and the `eraser` command from a fresh venv."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import eraser
from tests.support import ROOT
from tests.support.photos import blob, encode, scene

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirements(lines) -> set[str]:
    return {re.sub(r"\s+", "", line.split("#")[0]) for line in lines} - {""}


def test_requirements_txt_pins_the_library_and_its_app_and_server_extras_as_pyproject_does():
    # Community Cloud installs requirements.txt; pip install .[app,server] reads pyproject.toml.
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    declared = _requirements(project["dependencies"] + extras["app"] + extras["server"])
    assert _requirements((ROOT / "requirements.txt").read_text().splitlines()) == declared


def test_the_version_is_read_from_the_library():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "eraser.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", eraser.__version__)


@pytest.mark.slow
def test_the_library_and_its_command_need_neither_the_app_nor_the_server_extra(tmp_path):
    # What [app] and [server] bring is made unimportable; `eraser erase` must still work.
    blocked = ["streamlit", "streamlit_drawable_canvas", "fastapi", "uvicorn", "multipart"]
    pixels = scene(64, 48, seed=1)
    mask = blob(64, 48, (32, 24), 10)
    (tmp_path / "photo.png").write_bytes(encode(pixels))
    (tmp_path / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))
    code = (f"import sys; sys.modules.update(dict.fromkeys({blocked!r})); "
            "from eraser.cli import main; sys.exit(main(['erase', 'photo.png', 'mask.png', '--engine', 'telea']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "photo_erased.png").exists()


def _fresh_venv(folder):
    """A venv of its own that sees this interpreter's installed packages (numpy, pip,
    setuptools...) after its own: nothing is downloaded, and eraser can come only from the venv."""
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    ask = "import site; print(site.getsitepackages()[0])"
    own = subprocess.run([python, "-c", ask], capture_output=True, text=True, check=True).stdout.strip()
    ours = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (Path(own) / "parent-packages.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in ours))
    return python


@pytest.mark.slow
def test_pip_install_gives_an_eraser_command_that_erases_only_under_the_mask(tmp_path):
    # The sources pip sees: what a clone has, without the tests, so the package cannot lean on them.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "eraser", source / "eraser", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    python = _fresh_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    str(source)], check=True, env=env, cwd=tmp_path, timeout=300)

    command = tmp_path / "venv" / "bin" / "eraser"
    work = tmp_path / "work"
    work.mkdir()
    version = subprocess.run([command, "--version"], capture_output=True, text=True, env=env, cwd=work, timeout=60)
    assert version.stdout.strip() == f"eraser {eraser.__version__}", version.stderr
    where = subprocess.run([python, "-c", "import eraser; print(eraser.__file__)"],
                           capture_output=True, text=True, check=True, env=env, cwd=work)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv")  # not the checkout

    helped = subprocess.run([command, "--help"], capture_output=True, text=True, env=env, cwd=work, timeout=60)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: eraser ")
    for word in ("erase", "engines", "models", "serve"):
        assert word in helped.stdout

    pixels = scene(160, 120, seed=3)
    mask = blob(160, 120, (80, 80), 30)
    pixels[mask] = (20, 20, 20)  # the object to erase
    (work / "photo.png").write_bytes(encode(pixels))
    (work / "mask.png").write_bytes(encode(mask.astype(np.uint8) * 255))
    done = subprocess.run([command, "erase", "photo.png", "mask.png", "-o", "out.png", "--engine", "telea",
                           "--grow", "0"], capture_output=True, text=True, env=env, cwd=work, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "out.png"
    out = np.asarray(Image.open(work / "out.png").convert("RGB"))
    assert out.shape == pixels.shape
    assert np.array_equal(out[~mask], pixels[~mask])  # untouched outside the mask
    assert (out[mask].astype(int) - 20).mean() > 40  # the dark object is filled from around it
