"""Download the result URL, which the service chose and we therefore do not trust.

https only (http only when the configured service is on loopback), redirects followed by hand and
only within the same host, no private, loopback or link-local addresses unless the service is
local, a byte cap and a wall-clock deadline. The API key is never sent here.

Known gap: the address check and the connection resolve the name separately, so a DNS server
that answers differently the second time (rebinding) is not caught.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from eraser.contract import remote_error

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
LOCAL_HOSTS = {"localhost", "localhost.localdomain"}


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, allow_local: bool) -> None:
    """Raise UNSAFE_RESULT_URL unless url may be fetched."""
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in allowed or not parts.hostname or parts.username or parts.password:
        raise remote_error("UNSAFE_RESULT_URL")
    if allow_local:
        return
    try:
        port = parts.port or 443
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        raise remote_error("CONNECTION_FAILED") from None
    if not infos or not all(_public(ipaddress.ip_address(info[4][0])) for info in infos):
        raise remote_error("UNSAFE_RESULT_URL")


def fetch(url: str, *, allow_local: bool, max_bytes: int, timeout: float, deadline: float,
          session: requests.Session) -> bytes:
    """The bytes at url, or RemoteError. deadline is a time.monotonic() value."""
    host = urlsplit(url).hostname
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, allow_local)
        try:
            response = session.get(url, stream=True, allow_redirects=False, timeout=timeout,
                                   headers={"Accept-Encoding": "identity"})
        except requests.Timeout:
            raise remote_error("TIMEOUT") from None
        except requests.RequestException:
            raise remote_error("CONNECTION_FAILED") from None
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                if urlsplit(url).hostname != host:
                    raise remote_error("UNSAFE_RESULT_URL")
                continue
            if response.status_code != 200:
                raise remote_error("RESULT_DOWNLOAD_FAILED", response.status_code,
                                   retryable=response.status_code >= 500 or response.status_code == 429)
            return _read_capped(response, max_bytes, deadline)
    raise remote_error("UNSAFE_RESULT_URL")  # a redirect chain this long is not a result


def _read_capped(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise remote_error("BAD_RESULT_IMAGE")
    chunks, total = [], 0
    try:
        while True:
            # read1 returns after one socket read, so a trickling server meets the deadline check.
            chunk = response.raw.read1(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise remote_error("BAD_RESULT_IMAGE")
            if time.monotonic() > deadline:
                raise remote_error("TIMEOUT")
            chunks.append(chunk)
    except (urllib3.exceptions.TimeoutError, TimeoutError):
        raise remote_error("TIMEOUT") from None
    except (urllib3.exceptions.HTTPError, OSError):  # reading the raw stream bypasses requests' wrapping
        raise remote_error("CONNECTION_FAILED") from None
    return b"".join(chunks)
