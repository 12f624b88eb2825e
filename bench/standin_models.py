"""ONNX stand-ins for the real MI-GAN and big-LaMa files, for timing only.

The real files cannot be downloaded on these machines, so the benchmark builds graphs of the
same shape with random weights: the same inputs and outputs, the same kind and number of
layers at the same resolutions, about the same number of parameters. Their fills are noise,
so they cannot pass the engines' self-check, but they cost the CPU what the real ones would.

    python -m bench.standin_models [--out bench/out]

writes migan_standin.onnx and lama_standin.onnx with a JSON note of each one's parameter and
multiply-accumulate (MAC) count. MACs count the convolutions only (the FFTs, resizes and
element-wise ops are left out); "constants" are the fixed noise images MI-GAN adds.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # DFT with an `axis` attribute
VERSION = 2  # of the graphs: a stand-in built by an older version is built again
MIGAN_SIDE = 512
LAMA_SIDE = 512


@dataclass
class Builder:
    """Nodes and weights of one graph, counting parameters and MACs as layers are added."""

    seed: int
    nodes: list = field(default_factory=list)
    weights: list = field(default_factory=list)
    params: int = 0
    constants: int = 0
    macs: int = 0
    _count: int = 0

    def __post_init__(self):
        self.rng = np.random.default_rng(self.seed)

    def name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, values, stem: str = "c", dtype=np.float32) -> str:
        name = self.name(stem)
        self.weights.append(numpy_helper.from_array(np.asarray(values, dtype=dtype), name))
        return name

    def op(self, kind: str, inputs: list[str], **attrs) -> str:
        out = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int, out_side: int, *, stride: int = 1,
             pad: int | None = None, groups: int = 1, act: str | None = "relu") -> str:
        fan_in = cin // groups * k * k
        # 1/sqrt(fan_in) keeps random activations finite through deep stacks (no NaNs or
        # denormals that would make the timing unrepresentative).
        w = self.rng.standard_normal((cout, cin // groups, k, k), dtype=np.float32) / np.float32(math.sqrt(fan_in))
        b = np.zeros(cout, np.float32)
        self.params += w.size + b.size
        self.macs += out_side * out_side * cout * fan_in
        pad = k // 2 if pad is None else pad
        y = self.op("Conv", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[k, k],
                    strides=[stride, stride], pads=[pad] * 4, group=groups)
        return self.activation(y, act)

    def conv_transpose(self, x: str, cin: int, cout: int, in_side: int, act: str = "relu") -> str:
        """3x3, stride 2, doubling the side, as LaMa's upsampling."""
        w = self.rng.standard_normal((cin, cout, 3, 3), dtype=np.float32) / np.float32(math.sqrt(cin * 9))
        b = np.zeros(cout, np.float32)
        self.params += w.size + b.size
        self.macs += in_side * in_side * cin * cout * 9
        y = self.op("ConvTranspose", [x, self.const(w, "w"), self.const(b, "b")], kernel_shape=[3, 3],
                    strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])
        return self.activation(y, act)

    def activation(self, x: str, act: str | None) -> str:
        if act == "relu":
            return self.op("Relu", [x])
        if act == "lrelu":  # StyleGAN's lrelu_agc: leaky ReLU, gain sqrt(2), clamp 256
            y = self.op("Mul", [self.op("LeakyRelu", [x], alpha=0.2), self.const(math.sqrt(2))])
            return self.op("Clip", [y, self.const(-256.0), self.const(256.0)])
        return x

    def save(self, path: Path, inputs: list, outputs: list, name: str) -> dict:
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = 8  # opset 17's IR: loadable by every onnxruntime since 1.13
        onnx.checker.check_model(model)
        path.write_bytes(model.SerializeToString())
        return {"file": path.name, "bytes": path.stat().st_size, "params": self.params,
                "constants": self.constants, "macs": self.macs, "version": VERSION}


# --- MI-GAN pipeline v2 -------------------------------------------------------------------


def migan_compose(image: str, keep: str, generated: str, out: str) -> tuple[list, list]:
    """(nodes, initializers) of the MI-GAN pipeline's last step, on float tensors:
    keep' = GaussianBlur5x5,sigma 1(MaxPool3x3(keep)); out = image * keep' + generated * (1 - keep')."""
    taps = np.exp(-0.5 * np.arange(-2, 3) ** 2)
    kernel = np.outer(taps, taps)
    weights = [numpy_helper.from_array((kernel / kernel.sum()).astype(np.float32)[None, None], "compose_gauss"),
               helper.make_tensor("compose_one", TensorProto.FLOAT, [], [1.0])]
    nodes = [
        helper.make_node("MaxPool", [keep], ["compose_wide"], kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["compose_wide", "compose_gauss"], ["compose_keep"],
                         kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
        helper.make_node("Sub", ["compose_one", "compose_keep"], ["compose_fill"]),
        helper.make_node("Mul", [image, "compose_keep"], ["compose_kept"]),
        helper.make_node("Mul", [generated, "compose_fill"], ["compose_new"]),
        helper.make_node("Add", ["compose_kept", "compose_new"], [out]),
    ]
    return nodes, weights


def _migan_channels(side: int) -> int:
    # MI-GAN's generator: min(32768 // resolution, 512) channels at each resolution.
    return min(32768 // side, 512)


def _separable(g: Builder, x: str, cin: int, cout: int, side: int) -> str:
    """MI-GAN's separable conv: 3x3 depthwise, then 1x1 pointwise, both activated."""
    x = g.conv(x, cin, cin, 3, side, groups=cin, act="lrelu")
    return g.conv(x, cin, cout, 1, side, act="lrelu")


def _noise(g: Builder, x: str, side: int) -> str:
    """MI-GAN's fixed noise image (scaled by a learned strength), added after a conv."""
    noise = g.rng.standard_normal((1, 1, side, side), dtype=np.float32) * np.float32(0.1)
    g.constants += noise.size
    return g.op("Add", [x, g.const(noise, "noise")])


def migan(path: Path, seed: int = 0) -> dict:
    """uint8 [1,3,H,W] + uint8 mask [1,1,H,W] (255 = keep) -> uint8 [1,3,H,W].

    Like the real pipeline: the window is resized to 512, the generator (encoder 512 -> 4
    with a skip from each resolution, then a decoder 4 -> 512 with an RGB output summed up
    from every resolution) fills it, and the fill is resized back and composited with the
    input under a widened, blurred keep mask (the pipeline's last step). The real pipeline
    also crops around the hole first; the engine already hands it a window of about 512 px,
    so the crop is left out.
    """
    g = Builder(seed)
    image = g.op("Cast", ["image"], to=TensorProto.FLOAT)
    keep = g.op("Div", [g.op("Cast", ["mask"], to=TensorProto.FLOAT), g.const(255.0)])
    pixels = g.op("Sub", [g.op("Div", [image, g.const(127.5)]), g.const(1.0)])  # -1..1
    known = g.op("Concat", [g.op("Sub", [keep, g.const(0.5)]), g.op("Mul", [pixels, keep])], axis=1)
    side = MIGAN_SIDE
    sizes = g.const([1, 4, side, side], "sizes", np.int64)
    x = g.op("Resize", [known, "", "", sizes], mode="linear")

    # Encoder: fromRGB, then per resolution a separable conv (kept as the skip) and a
    # separable conv that halves the side (blur-and-subsample, here a 2x2 average).
    x = g.conv(x, 4, _migan_channels(side), 1, side, act="lrelu")
    skips = {}
    while side > 4:
        cin, cout = _migan_channels(side), _migan_channels(side // 2)
        skips[side] = x = _separable(g, x, cin, cin, side)
        x = g.conv(x, cin, cin, 3, side, groups=cin, act="lrelu")
        x = g.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
        side //= 2
        x = g.conv(x, cin, cout, 1, side, act="lrelu")
    skips[4] = x = _separable(g, x, 512, 512, 4)
    x = _separable(g, x, 512, 512, 4)

    # Decoder: first block at 4, then per resolution an upsampling separable conv, the
    # encoder's skip added, noise added (the export keeps MI-GAN's fixed noise images), a
    # second separable conv, and an RGB output added to the upsampled sum.
    x = g.op("Add", [_separable(g, x, 512, 512, 4), skips[4]])
    x = _separable(g, x, 512, 512, 4)
    rgb = g.conv(x, 512, 3, 1, 4, act=None)
    scale2 = g.const([1.0, 1.0, 2.0, 2.0])
    while side < MIGAN_SIDE:
        cin, cout = _migan_channels(side), _migan_channels(side * 2)
        x = g.conv(x, cin, cin, 3, side, groups=cin, act="lrelu")
        x = g.conv(x, cin, cout, 1, side, act="lrelu")
        side *= 2
        x = g.op("Add", [_noise(g, g.op("Resize", [x, "", scale2], mode="linear"), side), skips[side]])
        x = _noise(g, _separable(g, x, cout, cout, side), side)
        rgb = g.op("Add", [g.op("Resize", [rgb, "", scale2], mode="linear"), g.conv(x, cout, 3, 1, side, act=None)])

    # Back to the window's size, 0..255, and composited with the input as the pipeline does.
    fill = g.op("Mul", [g.op("Add", [g.op("Clip", [rgb, g.const(-1.0), g.const(1.0)]), g.const(1.0)]), g.const(127.5)])
    hw = g.op("Slice", [g.op("Shape", ["image"]), g.const([2], dtype=np.int64), g.const([4], dtype=np.int64)])
    out_sizes = g.op("Concat", [g.const([1, 3], dtype=np.int64), hw], axis=0)
    fill = g.op("Resize", [fill, "", "", out_sizes], mode="linear")
    nodes, weights = migan_compose(image, keep, fill, "blended")
    g.nodes += nodes
    g.weights += weights
    rounded = g.op("Round", [g.op("Clip", ["blended", g.const(0.0), g.const(255.0)])])
    g.nodes.append(helper.make_node("Cast", [rounded], ["result"], to=TensorProto.UINT8))
    dims = [1, 3, "height", "width"]
    return g.save(
        path,
        [helper.make_tensor_value_info("image", TensorProto.UINT8, dims),
         helper.make_tensor_value_info("mask", TensorProto.UINT8, [1, 1, "height", "width"])],
        [helper.make_tensor_value_info("result", TensorProto.UINT8, dims)],
        "migan_standin",
    )


# --- big-LaMa -------------------------------------------------------------------------------

LAMA_BLOCKS = 18
LOCAL, GLOBAL = 128, 384  # 512 channels split by ratio 0.75


def _fourier_unit(g: Builder, x: str, channels: int, side: int) -> str:
    """LaMa's FourierUnit: rfft2 (orthonormal), 1x1 conv + ReLU on the stacked real and
    imaginary channels, irfft2. ONNX Runtime has no one-sided inverse DFT, so the inverse
    along the width rebuilds the full spectrum by Hermitian symmetry and keeps the real part."""
    half = side // 2 + 1
    z = g.op("Unsqueeze", [x, g.const([-1], dtype=np.int64)])  # [N, C, H, W, 1]
    z = g.op("DFT", [z], axis=3, onesided=1)  # [N, C, H, W/2+1, 2]
    z = g.op("DFT", [z], axis=2)
    z = g.op("Mul", [z, g.const(1.0 / side)])  # norm="ortho" over H x W
    z = g.op("Transpose", [z], perm=[0, 1, 4, 2, 3])  # [N, C, 2, H, W/2+1]
    z = g.op("Reshape", [z, g.const([1, 2 * channels, side, half], dtype=np.int64)])
    g.macs += (half - side) * side * (2 * channels) ** 2  # conv() counts side x side; the spectrum is H x (W/2+1)
    z = g.conv(z, 2 * channels, 2 * channels, 1, side)
    z = g.op("Reshape", [z, g.const([1, channels, 2, side, half], dtype=np.int64)])
    z = g.op("Transpose", [z], perm=[0, 1, 3, 4, 2])  # [N, C, H, W/2+1, 2]
    z = g.op("DFT", [z], axis=2, inverse=1)
    mirror = g.op("Slice", [z, g.const([half - 2], dtype=np.int64), g.const([0], dtype=np.int64),
                            g.const([3], dtype=np.int64), g.const([-1], dtype=np.int64)])
    mirror = g.op("Mul", [mirror, g.const([1.0, -1.0])])  # conjugate
    z = g.op("Concat", [z, mirror], axis=3)  # [N, C, H, W, 2]
    z = g.op("DFT", [z], axis=3, inverse=1)
    z = g.op("Mul", [z, g.const(float(side))])  # ortho: undo the inverse's 1/(H*W), then 1/sqrt(H*W)
    real = g.op("Slice", [z, g.const([0], dtype=np.int64), g.const([1], dtype=np.int64), g.const([4], dtype=np.int64)])
    return g.op("Squeeze", [real, g.const([4], dtype=np.int64)])


def _spectral(g: Builder, x: str, side: int) -> str:
    half = GLOBAL // 2
    x = g.conv(x, GLOBAL, half, 1, side)
    y = _fourier_unit(g, x, half, side)
    return g.conv(g.op("Add", [x, y]), half, GLOBAL, 1, side, act=None)


def _ffc(g: Builder, local: str, glob: str, side: int) -> tuple[str, str]:
    """One FFC + BN (folded into the convs' biases) + ReLU, 512 -> 512 channels."""
    to_local = g.op("Add", [g.conv(local, LOCAL, LOCAL, 3, side, act=None),
                            g.conv(glob, GLOBAL, LOCAL, 3, side, act=None)])
    to_global = g.op("Add", [g.conv(local, LOCAL, GLOBAL, 3, side, act=None), _spectral(g, glob, side)])
    return g.op("Relu", [to_local]), g.op("Relu", [to_global])


def lama(path: Path, seed: int = 1) -> dict:
    """float [1,3,512,512] 0..1 + float [1,1,512,512] (1 = fill) -> float [1,3,512,512] 0..255."""
    g = Builder(seed)
    keep = g.op("Sub", [g.const(1.0), "mask"])
    x = g.op("Concat", [g.op("Mul", ["image", keep]), "mask"], axis=1)
    x = g.op("Pad", [x, g.const([0, 0, 3, 3, 0, 0, 3, 3], dtype=np.int64)], mode="reflect")
    x = g.conv(x, 4, 64, 7, LAMA_SIDE, pad=0)
    side, channels = LAMA_SIDE, 64
    for _ in range(3):
        side //= 2
        x = g.conv(x, channels, channels * 2, 3, side, stride=2)
        channels *= 2
    split = g.const([LOCAL, GLOBAL], dtype=np.int64)
    local, glob = g.name("local"), g.name("global")
    g.nodes.append(helper.make_node("Split", [x, split], [local, glob], axis=1))
    for _ in range(LAMA_BLOCKS):
        l1, g1 = _ffc(g, local, glob, side)
        l2, g2 = _ffc(g, l1, g1, side)
        local, glob = g.op("Add", [local, l2]), g.op("Add", [glob, g2])
    x = g.op("Concat", [local, glob], axis=1)
    for _ in range(3):
        x = g.conv_transpose(x, channels, channels // 2, side)
        side, channels = side * 2, channels // 2
    x = g.op("Pad", [x, g.const([0, 0, 3, 3, 0, 0, 3, 3], dtype=np.int64)], mode="reflect")
    fill = g.op("Sigmoid", [g.conv(x, 64, 3, 7, LAMA_SIDE, pad=0, act=None)])
    blended = g.op("Add", [g.op("Mul", ["image", keep]), g.op("Mul", [fill, "mask"])])
    g.nodes.append(helper.make_node("Mul", [blended, g.const(255.0)], ["output"]))
    return g.save(
        path,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, LAMA_SIDE, LAMA_SIDE]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, LAMA_SIDE, LAMA_SIDE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, LAMA_SIDE, LAMA_SIDE])],
        "lama_standin",
    )


BUILDERS = {"migan": migan, "lama": lama}


def build(folder: Path, name: str) -> tuple[Path, dict]:
    """The stand-in for `name` in `folder` (built once; a JSON note beside it has its counts)."""
    folder.mkdir(parents=True, exist_ok=True)
    model, note = folder / f"{name}_standin.onnx", folder / f"{name}_standin.json"
    if model.is_file() and note.is_file():
        info = json.loads(note.read_text())
        if info.get("bytes") == model.stat().st_size and info.get("version") == VERSION:
            return model, info
    info = BUILDERS[name](model)
    note.write_text(json.dumps(info))
    return model, info


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    for name in BUILDERS:
        path, info = build(args.out, name)
        print(f"{path}: {info['bytes'] / 1e6:.1f} MB, {info['params'] / 1e6:.2f} M parameters, "
              f"{info['constants'] / 1e6:.2f} M constants, {info['macs'] / 1e9:.1f} G MACs (convolutions)")


if __name__ == "__main__":
    main()
