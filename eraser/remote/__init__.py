"""Erasing through a remote image-erase API (the AILabTools contract, or our own server)."""

from eraser.remote.client import KEY_ENV, URL_ENV, RemoteEraser, RemoteResult

__all__ = ["RemoteEraser", "RemoteResult", "KEY_ENV", "URL_ENV"]
