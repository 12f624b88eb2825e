"""MI-GAN (pipeline v2 export): a small, fast learned fill made for phones.

The graph takes uint8 RGB and a uint8 mask where 255 means keep (the opposite of ours), and
does its own crop, resize to 512 and paste back, so windows of about 512 px suit it.
"""

import numpy as np

from .learned import LearnedEngine


class MiganEngine(LearnedEngine):
    name = "migan"
    title = "MI-GAN"
    label = "Fast (downloads 28 MB once)"
    tensor_type = "tensor(uint8)"
    max_side = 512

    def feed(self, rgb, mask):
        image = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])
        keep = np.where(mask, 0, 255).astype(np.uint8)[None, None]
        return image, keep, None

    def read(self, out, undo):
        return np.ascontiguousarray(out[0].transpose(1, 2, 0))
