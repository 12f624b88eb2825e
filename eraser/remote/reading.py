"""A remote answer's body, read by eraser.streams with a byte cap and the call's deadline, its
failures as the contract's client-side codes."""

from __future__ import annotations

import requests

from eraser.contract import remote_error
from eraser.errors import BodyError
from eraser.streams import IDENTITY, read_chunks

__all__ = ["IDENTITY", "read_body"]


def read_body(response: requests.Response, max_bytes: int, deadline: float, refused: str) -> bytes:
    """The body, at most max_bytes once decoded, read before deadline (a time.monotonic() value).
    refused: the error code for a body over the cap or in an encoding we do not read."""
    try:
        return b"".join(read_chunks(response, max_bytes, deadline))
    except BodyError as error:
        if error.reason in (BodyError.TOO_LARGE, BodyError.ENCODING):
            raise remote_error(refused, detail=error.detail) from None
        if error.reason in (BodyError.DEADLINE, BodyError.TIMEOUT):
            raise remote_error("TIMEOUT") from None
        raise remote_error("CONNECTION_FAILED") from None
