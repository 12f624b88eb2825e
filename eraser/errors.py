"""One small hierarchy of errors; each message tells a person what to do next."""


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


class StepDropped(EraserError):
    """An undo or redo step was dropped to make room in memory; the current photo is kept."""
