"""The client of the image-erase API: one call, erase(photo, mask), that either returns the full-size
result or raises an error whose message says what to do.

The API key lives only in the request header: it is never logged, put in an exception, a repr or
the result, and never sent to the result URL.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import numpy as np
import requests

from eraser import contract
from eraser.contract import remote_error
from eraser.errors import ImageError, RemoteError
from eraser.images import MAX_FILE_BYTES, Photo
from eraser.masks import prepare as prepare_mask
from eraser.pipeline import DEFAULT_GROW
from eraser.remote import download, urls
from eraser.remote.reading import IDENTITY, read_body
from eraser.remote.window import Upload, paste_back, plan_upload

log = logging.getLogger(__name__)

KEY_ENV = "AILAB_API_KEY"
URL_ENV = "AILAB_API_URL"
# A result may be a lossless PNG of a photo that was sent as a 3 MB JPEG; Photo.open's own cap.
MAX_RESULT_BYTES = MAX_FILE_BYTES
# The answer to the POST is a small JSON envelope; a megabyte is far more than any real one.
MAX_ANSWER_BYTES = 1024 * 1024
# Codes and request ids from the server reach e.code, logs and reprs: short, visible, no key.
MAX_ECHO = 64
_KEY_PATTERN = re.compile(r"[\x21-\x7e]+")  # visible ASCII: what an HTTP header can carry as is


@dataclass(frozen=True)
class RemoteResult:
    photo: Photo = field(repr=False)  # full size; differs from the input only under the mask
    data: bytes = field(repr=False)  # the bytes at image_url, kept because the URL expires
    image_url: str
    expires_at: datetime  # UTC; the service deletes the image then
    windowed: bool  # True: only a window (maybe downscaled) was sent, and pasted back
    sent_box: tuple[int, int, int, int]  # (left, top, right, bottom) of the photo that was sent
    sent_size: tuple[int, int]  # (width, height) that was sent
    attempts: int  # POST attempts, retries included
    request_id: str

    @property
    def note(self) -> str:
        """A sentence for the person when the photo did not go as is, else ''."""
        if not self.windowed:
            return ""
        left, top, right, bottom = self.sent_box
        width, height = self.sent_size
        scaled = "" if self.sent_size == (right - left, bottom - top) else f", scaled down to {width}x{height}"
        return (f"The photo is over the service's limits (3 MB, under 4096 px a side), so only the "
                f"{right - left}x{bottom - top} area around the mask was sent{scaled}; the erased pixels "
                f"were put back into the full-size photo.")


def _endpoint(url: str) -> urls.Url:
    """A full endpoint URL, or an origin (https://host[:port]) that gets the contract's path;
    in the strict form of eraser.remote.urls, https, or http only to loopback."""
    text = url.strip()
    parsed = urls.parse(text)
    if parsed is not None and parsed.path in ("", "/"):
        parsed = urls.parse(text.rstrip("/") + contract.PATH)
    if parsed is None or (parsed.scheme == "http" and not urls.is_loopback(parsed)):
        raise remote_error("BAD_API_URL")  # refused, never repaired; http: the key would cross the network in clear
    return parsed


class RemoteEraser:
    """erase(photo, mask) through an image-erase API.

    api_key / url default to AILAB_API_KEY / AILAB_API_URL (then the provider's URL). url is either
    the full endpoint or just an origin such as http://127.0.0.1:8000.
    timeout bounds one HTTP exchange; budget bounds the whole call, retries and download included.

    Where the endpoint may point (checked before every POST, after resolving its host) depends on
    who chose it. The deployment's own AILAB_API_URL (url None, or the same text), or any url
    with allow_local=True, is trusted: it may be on this machine or in a private network, and
    then its result URLs may be too. Any other url is treated as typed by a visitor: a public
    address only, so nobody can make the app reach into its own network; allow_local=False
    forces that for any url.
    """

    def __init__(self, api_key: str | None = None, url: str | None = None, *, timeout: float = 60.0,
                 budget: float = 180.0, max_attempts: int = 4, backoff: float = 1.0,
                 max_result_bytes: int = MAX_RESULT_BYTES, clock=time.time,
                 session: requests.Session | None = None, allow_local: bool | None = None):
        key = (os.environ.get(KEY_ENV, "") if api_key is None else api_key).strip()
        if not key:
            raise remote_error("NO_API_KEY")
        if not _KEY_PATTERN.fullmatch(key):
            raise remote_error("BAD_API_KEY_FORMAT")  # requests would echo the bad value in its error
        self._key = key
        configured = os.environ.get(URL_ENV, "").strip()
        text = (url or "").strip() or configured or contract.DEFAULT_URL
        self._endpoint = _endpoint(text)
        self.url = self._endpoint.text
        self._trusted = allow_local if allow_local is not None else (not url or text == configured)
        self.timeout, self.budget = timeout, budget
        self.max_attempts, self.backoff = max(1, max_attempts), backoff
        self.max_result_bytes = max_result_bytes
        self._clock = clock
        self._session = session or requests.Session()
        self._local: bool | None = None  # the endpoint's host is not public; found before the first POST

    def __repr__(self) -> str:
        return f"RemoteEraser(url={self.url!r})"

    def erase(self, photo: Photo, mask: np.ndarray, grow: int = DEFAULT_GROW) -> RemoteResult:
        """The photo erased by the service. As with eraser.erase, the mask is widened by grow
        pixels first so halos go too; the result differs from the photo only under that mask."""
        # An empty mask would spend a request (and credits) on nothing.
        mask = prepare_mask(mask, photo.size, grow)
        upload = plan_upload(photo.pixels, mask, photo.lossless)
        deadline = time.monotonic() + self.budget

        body, attempts = self._retrying(lambda: self._post(upload, deadline), deadline)
        image_url = body["data"]["image_url"]
        if self._key in image_url or quote(self._key, safe="") in image_url:
            raise remote_error("UNSAFE_RESULT_URL")  # fetching it would hand the key to whoever serves it
        expires_at = datetime.fromtimestamp(self._clock(), UTC) + timedelta(seconds=contract.URL_TTL_SECONDS)
        data, _ = self._retrying(lambda: download.fetch(
            image_url, allow_local=bool(self._local), max_bytes=self.max_result_bytes,
            timeout=self._timeout(deadline), deadline=deadline, session=self._session), deadline)

        try:
            answer = Photo.open(data)
        except ImageError:
            raise remote_error("BAD_RESULT_IMAGE") from None
        if answer.size != upload.size:
            raise remote_error("BAD_RESULT_IMAGE",
                               detail=f"sent {upload.size[0]}x{upload.size[1]}, got {answer.size[0]}x{answer.size[1]}")
        result = photo.replace(paste_back(photo.pixels, mask, upload, answer.pixels))
        return RemoteResult(result, data, image_url, expires_at, upload.windowed, upload.box, upload.size,
                            attempts, self._scrub(str(body.get("request_id", "")), MAX_ECHO))

    def _timeout(self, deadline: float) -> float:
        return max(0.1, min(self.timeout, deadline - time.monotonic()))

    def _retrying(self, attempt, deadline: float):
        """(attempt's value, number of tries); retries only retryable errors, within the budget."""
        tries = 0
        while True:
            tries += 1
            try:
                return attempt(), tries
            except RemoteError as err:
                delay = self.backoff * 2 ** (tries - 1) * random.uniform(0.5, 1.0)
                if err.retry_after is not None:
                    delay = max(delay, err.retry_after)
                if not err.retryable or tries == self.max_attempts or time.monotonic() + delay >= deadline:
                    raise
                log.warning("remote erase: %s (HTTP %s), try %d of %d, next in %.1f s",
                            err.code, err.status, tries, self.max_attempts, delay)
                time.sleep(delay)

    def _check_endpoint(self) -> None:
        """Refuse an endpoint whose host resolves where this client may not send (see the class)."""
        try:
            found = urls.addresses(self._endpoint)
        except (OSError, UnicodeError):
            raise remote_error("CONNECTION_FAILED") from None
        self._local = not (found and all(urls.is_public(ip) for ip in found))
        if self._local and not self._trusted:
            raise remote_error("UNSAFE_API_URL")

    def _post(self, upload: Upload, deadline: float) -> dict:
        self._check_endpoint()
        files = {contract.IMAGE_FIELD: ("image", upload.image),
                 contract.MASK_FIELD: ("mask.png", upload.mask, "image/png")}
        try:
            response = self._session.post(self.url, files=files, headers={contract.KEY_HEADER: self._key, **IDENTITY},
                                          timeout=self._timeout(deadline), allow_redirects=False, stream=True)
        except requests.Timeout:
            raise remote_error("TIMEOUT") from None
        except requests.RequestException:
            raise remote_error("CONNECTION_FAILED") from None
        with response:
            return self._read(response, read_body(response, MAX_ANSWER_BYTES, deadline, "BAD_RESPONSE"))

    def _read(self, response: requests.Response, data: bytes) -> dict:
        """The body of a success, else the RemoteError it stands for: status and error_code first,
        then error_detail.code, as the contract says."""
        try:
            body = json.loads(data)
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
            body = None
        if not isinstance(body, dict):
            if response.status_code == 200:
                raise remote_error("BAD_RESPONSE", 200)
            raise remote_error("", response.status_code, retry_after=_retry_after(response))
        error_code = body.get("error_code")
        if response.status_code == 200 and not isinstance(error_code, int):
            raise remote_error("BAD_RESPONSE", 200)  # JSON, but not this contract's
        if response.status_code == 200 and error_code == 0:
            data = body.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("image_url"), str) or not data["image_url"]:
                raise remote_error("BAD_RESPONSE", 200)
            return body
        status = response.status_code
        if status == 200:
            status = error_code  # the contract: a failure's error_code equals its HTTP status
        detail = body.get("error_detail") if isinstance(body.get("error_detail"), dict) else {}
        code = self._scrub(str(detail.get("code") or body.get("error_code_str") or ""), MAX_ECHO)
        message = str(detail.get("message") or body.get("error_msg") or "")
        server_text = "" if code in contract.ERRORS else self._scrub(message)
        raise remote_error(code, status, retry_after=_retry_after(response), detail=server_text)

    def _scrub(self, text: str, limit: int = 200) -> str:
        """A server's words (its message, code or request id), visible ASCII, shortened, without the key."""
        text = re.sub(r"[^\x20-\x7e]", " ", text)
        for form in {self._key, quote(self._key, safe="")}:
            text = text.replace(form, "[key]")
        return text[:limit].strip()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None
