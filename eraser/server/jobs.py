"""What a worker process does with one request: check and decode the two files, erase, encode.

Runs in a worker process (eraser.server.workers), so it takes and returns bytes only.
"""

from __future__ import annotations

import os

from eraser import engines
from eraser.backends import Local
from eraser.errors import EngineError, EraserError, MaskError
from eraser.server.checks import ContractError, read_request


def warm_up(engine: str) -> None:
    """Load the engine's model in this worker process before its first job.

    Workers never download: `serve` fetched and checked the model at start-up, so a file that is
    missing here means the engine falls back (auto) or fails its requests, never a request that
    waits for a download."""
    os.environ["ERASER_OFFLINE"] = "1"
    try:
        engines.get(engine).load()
    except EraserError:
        pass  # the same error reaches the first request that needs this engine


def local_erase(photo, mask, *, engine: str, grow: int):
    """The erased photo, through the library's Local backend (no fallback: a learned engine whose
    model cannot be had fails the request, as `serve` refused to start without it)."""
    return Local(engine).erase(photo, mask, grow).photo


def erase_job(image: bytes, mask: bytes, engine: str, grow: int, erase=local_erase) -> tuple[bytes, str]:
    """(encoded result, its media type), or ContractError with the code the client gets."""
    photo, pixels = read_request(image, mask)
    try:
        result = erase(photo, pixels, engine=engine, grow=grow)
    except MaskError:  # the mask marks nothing to erase
        raise ContractError("ERROR_INVALID_PARAMETER") from None
    except EngineError:
        raise ContractError("PROCESSING_FAILURE") from None
    return result.encode(), result.mime_type()
