"""Read an HTTP body with a byte cap and a deadline, whatever the server sends: the one reader
behind model downloads (eraser.fetch) and the remote client's answers (eraser.remote.reading).

The raw stream is read with read1, which returns after one socket read, so a trickling server
meets the deadline check; the socket timeout bounds each wait. With decode=True a body the server
compressed anyway (we ask for identity) is decoded here, with the cap on the decoded bytes (a
1 MB gzip can hold gigabytes); with decode=False the bytes are counted as they were sent.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator

import requests
import urllib3

from .errors import BodyError

IDENTITY = {"Accept-Encoding": "identity"}
DECODED = ("identity", "gzip", "deflate", "x-gzip")


def read_chunks(response: requests.Response, max_bytes: int, deadline: float, *, decode: bool = True,
                chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """The body of a streamed response in chunks, at most max_bytes in all, read before deadline
    (a time.monotonic() value); BodyError says why one could not be read."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower() if decode else "identity"
    if encoding not in DECODED:
        raise BodyError(BodyError.ENCODING, f"content encoding {encoding[:20]!r}")
    decoder = None if encoding == "identity" else zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib
    declared = response.headers.get("Content-Length", "")
    if decoder is None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyError(BodyError.TOO_LARGE, f"over {max_bytes} bytes")
    total = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise BodyError(BodyError.DEADLINE)
            raw = response.raw.read1(chunk_size, decode_content=False)
            if not raw:
                return
            while raw:
                if decoder is None:
                    data, raw = raw, b""
                else:  # at most one byte over the cap is ever inflated
                    data = decoder.decompress(raw, max_bytes - total + 1)
                    raw = decoder.unconsumed_tail
                total += len(data)
                if total > max_bytes:
                    raise BodyError(BodyError.TOO_LARGE, f"over {max_bytes} bytes")
                yield data
    except zlib.error as exc:
        raise BodyError(BodyError.ENCODING, "damaged compressed body") from exc
    except (urllib3.exceptions.TimeoutError, TimeoutError) as exc:
        raise BodyError(BodyError.TIMEOUT, type(exc).__name__) from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:  # reading the raw stream bypasses requests' wrapping
        raise BodyError(BodyError.BROKEN, type(exc).__name__) from exc
