"""LaMa (big-lama ONNX export): the best learned fill here, and the slowest.

The graph takes exactly 512 x 512: a window is scaled so its longer side is 512, padded to a
square by reflection, and the fill is cropped and scaled back. Values go in as 0..1 and come
out as 0..255; the mask is 1 = fill.
"""

import cv2
import numpy as np

from .learned import LearnedEngine

SIDE = 512


class LamaEngine(LearnedEngine):
    name = "lama"
    title = "LaMa"
    label = "Best quality (downloads 208 MB once, slower)"
    tensor_type = "tensor(float)"
    fixed_side = SIDE
    max_side = SIDE

    def feed(self, rgb, mask):
        height, width = mask.shape
        scale = SIDE / max(height, width)
        size = (min(SIDE, max(1, round(width * scale))), min(SIDE, max(1, round(height * scale))))
        image = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        # Any pixel the hole touches after scaling is hole: no trace of the object is kept.
        hole = cv2.resize(mask.view(np.uint8) * 255, size, interpolation=cv2.INTER_LINEAR) > 0
        pad = ((0, SIDE - size[1]), (0, SIDE - size[0]))
        image = np.pad(image, (*pad, (0, 0)), mode="reflect")
        hole = np.pad(hole, pad, mode="reflect")
        tensor = (image.transpose(2, 0, 1)[None] / np.float32(255)).astype(np.float32)
        return tensor, hole.astype(np.float32)[None, None], ((width, height), size)

    def read(self, out, undo):
        (width, height), (small_w, small_h) = undo
        filled = np.clip(out[0].transpose(1, 2, 0)[:small_h, :small_w], 0, 255).round().astype(np.uint8)
        shrink = small_w > width
        return cv2.resize(filled, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
