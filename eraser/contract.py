"""The AILabTools image-erase contract (docs/api.md), written once for client and server.

Both sides import the path, field names, limits and the error table from here, so a change to
the contract is a change in one place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from eraser.errors import RemoteError

PATH = "/api/image/editing/image-erase"
DEFAULT_URL = "https://www.ailabapi.com" + PATH
KEY_HEADER = "ailabapi-api-key"
IMAGE_FIELD = "image"
MASK_FIELD = "user_mask"

FORMATS = ("JPEG", "PNG", "BMP", "WEBP")
# "At most 3 MB": the server accepts the generous reading (MiB) and the client sends at most
# the strict one (10**6), so our client never trips a provider that meant megabytes.
MAX_FILE_BYTES = 3 * 1024 * 1024
SAFE_FILE_BYTES = 3_000_000
# "Under 4096 x 4096": a side of 4096 px or more is refused.
MAX_SIDE = 4095
URL_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ErrorSpec:
    status: int | None  # None: found by the client itself, never sent by a server
    retryable: bool
    message: str  # what a person should do next


_RETRY_LATER = "The service is busy or failing right now; try again in a minute."

# Every error_detail.code of the contract, plus the client's own conditions (status None).
ERRORS: dict[str, ErrorSpec] = {
    "ERROR_PARAMETERS": ErrorSpec(400, False, "The request was malformed: send the photo as 'image' and the mask as 'user_mask'."),
    "MISSING_PARAMETERS": ErrorSpec(400, False, "The photo or the mask is missing from the request: send both."),
    "ERROR_INVALID_PARAMETER": ErrorSpec(400, False, "The photo or the mask was refused: check that the mask marks something to erase."),
    "PARAMETERS_CANNOT_EMPTY": ErrorSpec(400, False, "The photo or the mask is empty: choose a photo and paint over what to erase."),
    "FILE_DECODING_FAILURE": ErrorSpec(400, False, "The service could not read the photo or the mask: save it again as JPEG or PNG and retry."),
    "PROCESSING_FAILURE": ErrorSpec(400, False, "The service failed on this photo: try a smaller mask, or use the local engine."),
    "ERROR_USER_NOT_EXISTS": ErrorSpec(401, False, "The API key was not accepted: check the key (AILAB_API_KEY) and enter it again."),
    "ERROR_APPLICATIONS_NOT_EXISTS": ErrorSpec(401, False, "The API key does not belong to an application: check the key (AILAB_API_KEY)."),
    "ERROR_USER_LOCKED": ErrorSpec(403, False, "The account behind this API key is locked: contact the service's support."),
    "AI_SERVICE_UNAUTHORIZED": ErrorSpec(403, False, "This API key has no access to image erasing: enable it for the key, or use another key."),
    "ERROR_ILLEGAL_FILE": ErrorSpec(403, False, "The service refused this file: try another photo, or use the local engine."),
    "ERROR_AI_NOT_EXISTS": ErrorSpec(404, False, "The erase API does not exist at this address or was switched off: check AILAB_API_URL, or use the local engine or a self-hosted server."),
    "FILE_SIZE_EXCEEDS_LIMIT": ErrorSpec(413, False, "The photo is over 3 MB: save it smaller (lower JPEG quality or fewer pixels)."),
    "ERROR_REQUEST_BODY_TOO_LARGE": ErrorSpec(413, False, "The request is too large: the photo and the mask must each be at most 3 MB."),
    "UNSUPPORTED_FILE_TYPES": ErrorSpec(415, False, "This file type is not accepted: use JPEG, PNG, BMP or WEBP."),
    "FILE_RESOLUTION_EXCEEDS_LIMITS": ErrorSpec(422, False, "The photo is 4096 pixels or more on a side: resize it below 4096 x 4096."),
    "ERROR_MASK_IMAGE_RESOLUTION_MISMATCH": ErrorSpec(422, False, "The mask is not the same size as the photo: draw the mask on this photo again."),
    "EXCEEDING_LIMITS": ErrorSpec(422, False, "The account's request or concurrency limit was reached: wait, or raise the plan's limits."),
    "ERROR_NOT_ENOUGH_CREDITS": ErrorSpec(429, False, "The account has no credits left: top up the balance, or use the local engine."),
    "UNKNOWN_ERROR": ErrorSpec(500, True, _RETRY_LATER),
    "SERVICE_INTERNAL_ERROR": ErrorSpec(500, True, _RETRY_LATER),
    "AI_SERVICE_ERROR": ErrorSpec(500, True, _RETRY_LATER),
    "ERROR_GATEWAY": ErrorSpec(502, True, _RETRY_LATER),
    "AI_SERVICE_FLOW_RESTRICTION": ErrorSpec(503, True, "Too many requests per second: wait a moment and try again."),
    "AI_SERVICE_TIMEOUT": ErrorSpec(504, True, "The service timed out: try again, or use a smaller photo."),
    # Our server's own, in the same envelope: an upload that did not arrive within its time.
    "REQUEST_TIMEOUT": ErrorSpec(408, True, "The upload was too slow and the service stopped waiting: check the connection and try again."),
    # Found by the client, not sent by any server.
    "NO_API_KEY": ErrorSpec(None, False, "No API key is set: set AILAB_API_KEY or enter a key."),
    "BAD_API_URL": ErrorSpec(None, False, "AILAB_API_URL must be a plain https:// address (http:// only for a server on this machine; no spaces, backslashes, user names or unusual characters)."),
    "UNSAFE_API_URL": ErrorSpec(None, False, "This service address is on this machine or in a private network, where the app sends nothing for an address typed here: use a public https:// address, or set it as AILAB_API_URL in the deployment."),
    "BAD_API_KEY_FORMAT": ErrorSpec(None, False, "The API key contains spaces or characters a key cannot have: paste it again."),
    "TIMEOUT": ErrorSpec(None, True, "The service did not answer in time: check the connection and try again."),
    "CONNECTION_FAILED": ErrorSpec(None, True, "The service could not be reached: check the connection and AILAB_API_URL."),
    "BAD_RESPONSE": ErrorSpec(None, False, "The service gave an answer this app cannot read: check that AILAB_API_URL points at an image-erase API."),
    "UNSAFE_RESULT_URL": ErrorSpec(None, False, "The service pointed the result at an address this app will not download from: check AILAB_API_URL."),
    "RESULT_DOWNLOAD_FAILED": ErrorSpec(None, False, "The erased image could not be downloaded: try again."),
    "BAD_RESULT_IMAGE": ErrorSpec(None, False, "The service returned something that is not a usable image: try again, or use the local engine."),
}


def spec_for(status: int | None, code: str) -> ErrorSpec:
    """The spec of a failure: by its code when the code is known (the contract says to branch on it),
    else by the HTTP status, which is all an unknown code or a non-JSON gateway page leaves us."""
    if code in ERRORS:
        return ERRORS[code]
    if status == 429 or (status is not None and status >= 500):
        # A 429 that does not say "credits" is a rate limit, which passes.
        return ErrorSpec(status, True, _RETRY_LATER)
    return ErrorSpec(status, False, f"The service refused the request (HTTP {status}): check the photo, the mask and the key.")


def remote_error(code: str, status: int | None = None, *, retryable: bool | None = None,
                 retry_after: float | None = None, detail: str = "") -> RemoteError:
    """The RemoteError a client raises for a code (its message from the table), with the status
    it came with; detail (a server's own words, or sizes) is added in brackets."""
    spec = spec_for(status, code)
    message = f"{spec.message} ({detail})" if detail else spec.message
    return RemoteError(message, code=code or f"HTTP_{status}", status=status,
                       retryable=spec.retryable if retryable is None else retryable, retry_after=retry_after)


def _envelope(status: int, code: str, message: str) -> dict:
    request_id = uuid.uuid4().hex
    return {
        "request_id": request_id,
        "log_id": request_id,
        "error_code": 0 if status == 200 else status,
        "error_code_str": code,
        "error_msg": message,
        "error_detail": {"status_code": status, "code": code, "code_message": message, "message": message},
    }


def success_body(image_url: str) -> dict:
    return {**_envelope(200, "", ""), "data": {"image_url": image_url}}


def error_body(code: str) -> tuple[int, dict]:
    """(HTTP status, JSON body) for a contract code, as a server answers it."""
    spec = ERRORS[code]
    if spec.status is None:
        raise ValueError(f"{code} is a client-side condition, not something a server sends")
    return spec.status, _envelope(spec.status, code, spec.message)
