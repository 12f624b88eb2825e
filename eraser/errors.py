"""Every error the library raises on purpose, in one place.

EraserError and its subclasses are for people: each message is a sentence that says what to do
next, and the pages and the CLI show it as it is. The signals at the end are kept out of that
hierarchy on purpose (see there).
"""


class EraserError(Exception):
    """Base of every error the library raises on purpose. str(e) is safe to show."""


class ImageError(EraserError):
    """The photo cannot be used: unreadable, unsupported, damaged or too large."""


class MaskError(EraserError):
    """The mask cannot be used: unreadable, empty, or not matching the photo."""


class EngineError(EraserError):
    """An erasing engine is unknown or failed on this input."""


class ModelError(EngineError):
    """A learned model's file is missing, cannot be fetched, or fails its check on load."""


class RemoteError(EraserError):
    """The remote erase service refused or failed the request.

    code: the contract's error_detail.code or the client's own (eraser.contract.ERRORS);
    status: the HTTP status, None when no answer came; retryable: the same request may pass later;
    retry_after: seconds the service asked us to wait, if it said.
    """

    def __init__(self, message: str, *, code: str = "", status: int | None = None,
                 retryable: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class SettingsError(EraserError):
    """One or more server settings are unusable; each problem is one sentence.

    str() puts them on separate lines, each after the first prefixed "error: " as the CLI
    prefixes the first, so `serve` prints one `error:` line per bad setting."""

    def __init__(self, problems: list[str]):
        super().__init__("\nerror: ".join(problems))
        self.problems = problems


class StepDropped(EraserError):
    """An undo or redo step was dropped to make room in memory; the current photo is kept."""


# -- Signals between parts of the library, not EraserError -----------------------------------------
# Each carries a code or a reason for the code that catches it, not a sentence for a person, and is
# always turned into a message of its caller's (the contract's JSON envelope, a ModelError, a
# RemoteError) before anything is shown. Outside EraserError, a handler that shows EraserError to a
# person can never show one of these by mistake.


class ContractError(Exception):
    """A request the server's contract refuses; code is a key of eraser.contract.ERRORS."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class StoreFull(Exception):
    """No new result can be kept now: the store is at its size limit, the disk is full, or the
    store cannot be written (it recovers from that by itself). The client may retry later: 503."""


class StoreFailed(Exception):
    """The store refused a result for a reason retrying will not fix (access denied, no such
    bucket, no credentials): the deployment needs fixing, so the request gets 500."""


class BodyError(Exception):
    """An HTTP body could not be read within its cap or deadline (eraser.streams); reason is one of
    the constants below, detail a few words for a log or a RemoteError's detail."""

    TOO_LARGE = "too large"
    ENCODING = "encoding"  # an encoding we do not read, or a damaged compressed body
    DEADLINE = "deadline"  # the whole read's deadline passed
    TIMEOUT = "timeout"  # the socket was silent for longer than its timeout
    BROKEN = "broken"  # the connection failed

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
