"""A self-hosted server that speaks the AILabTools image-erase contract with the local engines."""

from eraser.server.app import create_app
from eraser.server.settings import Settings
from eraser.server.storage import LocalDirStore, ResultStore

__all__ = ["create_app", "Settings", "LocalDirStore", "ResultStore"]
