"""Download the result URL, which the service chose and we therefore do not trust.

The URL must pass eraser.remote.urls (strict form; https only, http only when the configured
service is local); redirects are followed by hand, only within the same host; no private,
loopback or link-local addresses unless the service is local; a byte cap and a wall-clock
deadline. The API key is never sent here.

Known gap: the address check and the connection resolve the name separately, so a DNS server
that answers differently the second time (rebinding) is not caught.
"""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from eraser.contract import remote_error
from eraser.remote import urls
from eraser.remote.reading import IDENTITY, read_body

MAX_REDIRECTS = 3


def check_url(url: str, allow_local: bool) -> urls.Url:
    """The parsed URL, or UNSAFE_RESULT_URL unless it may be fetched."""
    parsed = urls.parse(url)
    if parsed is None or (parsed.scheme == "http" and not allow_local):
        raise remote_error("UNSAFE_RESULT_URL")
    if allow_local:
        return parsed
    try:
        public = urls.resolves_public(parsed)
    except (OSError, UnicodeError):
        raise remote_error("CONNECTION_FAILED") from None
    if not public:
        raise remote_error("UNSAFE_RESULT_URL")
    return parsed


def fetch(url: str, *, allow_local: bool, max_bytes: int, timeout: float, deadline: float,
          session: requests.Session) -> bytes:
    """The bytes at url, or RemoteError. deadline is a time.monotonic() value."""
    host = None
    for _ in range(MAX_REDIRECTS + 1):
        parsed = check_url(url, allow_local)
        if host is not None and (parsed.host, parsed.port) != host:
            raise remote_error("UNSAFE_RESULT_URL")
        host = (parsed.host, parsed.port)
        try:
            response = session.get(url, stream=True, allow_redirects=False, timeout=timeout, headers=IDENTITY)
        except requests.Timeout:
            raise remote_error("TIMEOUT") from None
        except requests.RequestException:
            raise remote_error("CONNECTION_FAILED") from None
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code != 200:
                raise remote_error("RESULT_DOWNLOAD_FAILED", response.status_code,
                                   retryable=response.status_code >= 500 or response.status_code == 429)
            return read_body(response, max_bytes, deadline, "BAD_RESULT_IMAGE")
    raise remote_error("UNSAFE_RESULT_URL")  # a redirect chain this long is not a result
