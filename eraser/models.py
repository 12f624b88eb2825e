"""The learned models' files: what each one is, where it is kept, and fetching it once.

Files live in one directory: ERASER_MODELS_DIR when set (a machine without internet gets its
files copied there), else the per-user cache. A pinned file is used only when its size and
SHA-256 match; ERASER_OFFLINE=1 forbids any download.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from .errors import ModelError

if TYPE_CHECKING:
    from .fetch import Progress


@dataclass(frozen=True)
class Model:
    name: str  # the engine that runs it
    title: str
    file: str
    url: str
    size: int
    sha256: str
    licence: str
    source: str


MODELS = {
    model.name: model
    for model in (
        Model("migan", "MI-GAN", "migan_pipeline_v2.onnx",
              "https://huggingface.co/andraniksargsyan/migan/resolve/main/migan_pipeline_v2.onnx",
              28_079_181, "6f1f3530a1a2324b19752018ce756088b07973cda8d7d890034ace5c8a48c40b",
              "MIT", "Picsart AI Research, MI-GAN (ICCV 2023)"),
        Model("lama", "LaMa", "lama_fp32.onnx",
              "https://huggingface.co/Carve/LaMa-ONNX/resolve/main/lama_fp32.onnx",
              208_044_816, "1faef5301d78db7dda502fe59966957ec4b79dd64e16f03ed96913c7a4eb68d6",
              "Apache-2.0", "Suvorov et al., big-lama (WACV 2022), ONNX export by Carve"),
    )
}

# Files already hashed by this process: (path, size, mtime) -> matched.
_verified: dict[tuple[str, int, int], bool] = {}


def get(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"Unknown model '{name}'. Choose one of: {', '.join(MODELS)}.") from None


def directory() -> Path:
    return Path(os.environ.get("ERASER_MODELS_DIR") or platformdirs.user_cache_path("eraser") / "models")


def offline() -> bool:
    return os.environ.get("ERASER_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def path(model: Model) -> Path:
    return directory() / model.file


def present(model: Model) -> bool:
    """Whether the file is in place with the pinned size (the checksum is checked on use)."""
    try:
        return path(model).stat().st_size == model.size
    except OSError:
        return False


def regular(file: Path) -> os.stat_result:
    """`file`'s status when it is a regular file; ModelError otherwise, before anything opens it
    (a FIFO with no writer would hang the opener, a device never end)."""
    try:
        info = file.stat()
    except OSError as exc:
        raise ModelError(f"Cannot read the model file '{file}': {exc.strerror or exc}.") from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a folder" if stat.S_ISDIR(info.st_mode) else "a pipe (FIFO)" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a special file")
        raise ModelError(f"The model file '{file}' is {kind}, not a file. Give the path of an .onnx file.")
    return info


def matches(model: Model, file: Path) -> bool:
    """Whether `file` has the pinned size and SHA-256 (hashed once per process per version)."""
    info = file.stat()
    key = (str(file.resolve()), info.st_size, info.st_mtime_ns)
    if key not in _verified:
        _verified[key] = info.st_size == model.size and _sha256(file) == model.sha256
    return _verified[key]


def _sha256(file: Path) -> str:
    import hashlib  # here: OpenSSL's hashes load in 6 ms, which no erase without a model file needs

    digest = hashlib.sha256()
    with file.open("rb") as data:
        while block := data.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def ensure(model: Model, progress: Progress | None = None) -> Path:
    """The checked file of `model`, fetched first if it is missing and downloads are allowed."""
    target = path(model)
    if os.path.lexists(target):
        regular(target)  # a folder or FIFO in its place is refused, not waited on or written over
        if not matches(model, target):
            raise ModelError(
                f"{target} is not the published {model.title} file (its size or checksum differs). "
                f"Delete it or run 'python -m eraser models pull {model.name}'; to use your own "
                "export, pass it with --model-file."
            )
        return target
    if offline():
        raise ModelError(
            f"The {model.title} model is not on this machine and downloads are off (ERASER_OFFLINE). "
            f"Put {model.file} in {directory()}, or allow the download."
        )
    return pull(model, progress)


def pull(model: Model, progress: Progress | None = None) -> Path:
    """Download `model` again, whatever is in place; ModelError says why it failed."""
    if offline():
        raise ModelError(f"Downloads are off (ERASER_OFFLINE), so {model.title} cannot be fetched.")
    from .fetch import download  # here: requests, urllib3 and TLS are for downloads only

    return download(model.url, path(model), size=model.size, sha256=model.sha256, progress=progress)
