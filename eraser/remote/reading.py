"""Read a remote answer's body with a byte cap and the call's deadline, whatever the server sends.

We ask for `Accept-Encoding: identity`; a server that compresses anyway is decoded here, with the
cap applied to the decoded bytes (a 1 MB gzip can hold gigabytes). The raw stream is read with
read1, which returns after one socket read, so a trickling server meets the deadline check; the
per-read socket timeout bounds each wait.
"""

from __future__ import annotations

import time
import zlib

import requests
import urllib3

from eraser.contract import remote_error

CHUNK = 64 * 1024
IDENTITY = {"Accept-Encoding": "identity"}


def read_body(response: requests.Response, max_bytes: int, deadline: float, refused: str) -> bytes:
    """The body, at most max_bytes once decoded, read before deadline (a time.monotonic() value).
    refused: the error code for a body over the cap or in an encoding we do not read."""
    declared = response.headers.get("Content-Length", "")
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "deflate", "x-gzip"):
        raise remote_error(refused, detail=f"content encoding {encoding[:20]!r}")
    decoder = None if encoding == "identity" else zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib
    if decoder is None and declared.isdigit() and int(declared) > max_bytes:
        raise remote_error(refused, detail=f"over {max_bytes} bytes")
    chunks, total = [], 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise remote_error("TIMEOUT")
            raw = response.raw.read1(CHUNK, decode_content=False)
            if not raw:
                break
            while raw:
                if decoder is None:
                    data, raw = raw, b""
                else:  # at most one byte over the cap is ever inflated
                    data = decoder.decompress(raw, max_bytes - total + 1)
                    raw = decoder.unconsumed_tail
                total += len(data)
                if total > max_bytes:
                    raise remote_error(refused, detail=f"over {max_bytes} bytes")
                chunks.append(data)
    except zlib.error:
        raise remote_error(refused, detail="damaged compressed body") from None
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        raise remote_error("TIMEOUT") from None
    except (urllib3.exceptions.HTTPError, OSError):  # reading the raw stream bypasses requests' wrapping
        raise remote_error("CONNECTION_FAILED") from None
    return b"".join(chunks)
