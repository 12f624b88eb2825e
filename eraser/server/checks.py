"""Turn the two uploaded files into (photo, mask), or the contract's error code for what is wrong.

The checks run in the contract's order of cheapness: size, then format from the first bytes,
then the resolution from the header, and only then a full decode.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from eraser import contract
from eraser.errors import ContractError, ImageError, MaskError
from eraser.images import (
    Photo,
    looks_accepted,  # 415 (not ours) vs 400 (damaged)
)
from eraser.masks import load_mask


def check_file(data: bytes) -> tuple[int, int]:
    """The (width, height) a file's header declares, after the size and format checks."""
    if not data:
        raise ContractError("PARAMETERS_CANNOT_EMPTY")
    if len(data) > contract.MAX_FILE_BYTES:
        raise ContractError("FILE_SIZE_EXCEEDS_LIMIT")
    if not looks_accepted(data):
        raise ContractError("UNSUPPORTED_FILE_TYPES")
    try:
        with Image.open(io.BytesIO(data)) as header:  # reads the header only, no pixels
            size = header.size
    except Image.DecompressionBombError:  # a header declaring hundreds of megapixels
        raise ContractError("FILE_RESOLUTION_EXCEEDS_LIMITS") from None
    except Exception:  # PIL raises many types for damaged headers
        raise ContractError("FILE_DECODING_FAILURE") from None
    if max(size) > contract.MAX_SIDE:
        raise ContractError("FILE_RESOLUTION_EXCEEDS_LIMITS")
    return size


def read_request(image: bytes, mask: bytes) -> tuple[Photo, np.ndarray]:
    check_file(image)
    mask_size = check_file(mask)  # compared before load_mask, which would rescale a same-shape mask
    try:
        photo = Photo.open(image)
    except ImageError:
        raise ContractError("FILE_DECODING_FAILURE") from None
    if mask_size != photo.size:
        raise ContractError("ERROR_MASK_IMAGE_RESOLUTION_MISMATCH")
    try:
        return photo, load_mask(mask, photo.size)
    except MaskError:
        raise ContractError("FILE_DECODING_FAILURE") from None
