"""One small hierarchy of errors; each message tells a person what to do next."""


class EraserError(Exception):
    """Base of every error the library raises on purpose. str(e) is safe to show."""


class ImageError(EraserError):
    """The photo cannot be used: unreadable, unsupported, damaged or too large."""


class MaskError(EraserError):
    """The mask cannot be used: unreadable, empty, or not matching the photo."""


class EngineError(EraserError):
    """An erasing engine is unknown or failed on this input."""


class RemoteError(EraserError):
    """The remote erase service refused or failed the request."""
