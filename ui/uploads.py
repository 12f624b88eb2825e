"""Letting go of Streamlit's copy of an uploaded photo once the page has taken it.

Streamlit's upload manager keeps every uploaded file's bytes until the session ends (20 visitors'
12 MP PNGs: 275 MB). The Erase page hands those bytes to the step store (eraser.steps), which can
move an idle session's upload to disk, but only if nothing else holds them. Streamlit's own chat
input drops its files the same way once read. The uploader in the browser still shows the
file's name; its value in later runs no longer holds the bytes (None, or a DeletedFile with the
same file_id), which the page reads as "nothing new".
"""

from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.uploaded_file_manager import UploadedFile


def release(file: UploadedFile) -> None:
    """Remove a file from this session's upload manager (the in-memory one, the only kind that
    can remove a single file); the caller keeps the bytes it took."""
    ctx = get_script_run_ctx()
    if ctx is not None and isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
        ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=file.file_id)
