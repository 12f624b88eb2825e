"""Tiny ONNX models with exactly the inputs and outputs of MI-GAN and LaMa, built here with the
`onnx` helper API (the real files cannot be downloaded on these machines).

They fill the hole with the mean colour of the kept pixels: a crude but plausible fill that the
self-check must accept. Flags break one convention each, as a wrongly wired export would.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

OPSET = 17


def _mean_fill(nodes: list, x: str, keep: str, swap: bool) -> str:
    """Nodes for x * keep + mean(x over keep) * (1 - keep); returns the result's name."""
    nodes += [
        helper.make_node("Mul", [x, keep], ["kept"]),
        helper.make_node("ReduceSum", ["kept", "hw"], ["sum"], keepdims=1),
        helper.make_node("ReduceSum", [keep, "hw"], ["count"], keepdims=1),
        helper.make_node("Add", ["count", "tiny"], ["count1"]),
        helper.make_node("Div", ["sum", "count1"], ["mean"]),
        helper.make_node("Sub", ["one", keep], ["hole"]),
        helper.make_node("Mul", ["mean", "hole"], ["fill"]),
        helper.make_node("Add", ["kept", "fill"], ["filled"]),
    ]
    if not swap:
        return "filled"
    nodes.append(helper.make_node("Gather", ["filled", "bgr"], ["swapped"], axis=1))
    return "swapped"


def _constants() -> list:
    return [
        helper.make_tensor("hw", TensorProto.INT64, [2], [2, 3]),
        helper.make_tensor("tiny", TensorProto.FLOAT, [], [1e-6]),
        helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        helper.make_tensor("k255", TensorProto.FLOAT, [], [255.0]),
        helper.make_tensor("bgr", TensorProto.INT64, [3], [2, 1, 0]),
    ]


def _save(path: Path, nodes, inputs, output, name: str) -> Path:
    graph = helper.make_graph(nodes, name, inputs, [output], initializer=_constants())
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model, full_check=True)
    path = Path(path)
    path.write_bytes(model.SerializeToString())
    return path


def migan_like(path, *, invert=False, swap=False, names=("picture", "known", "painted")) -> Path:
    """uint8 [1,3,H,W] RGB + uint8 [1,1,H,W] with 255 = keep -> uint8 [1,3,H,W]."""
    image, mask, out = names
    nodes = [
        helper.make_node("Cast", [image], ["x"], to=TensorProto.FLOAT),
        helper.make_node("Cast", [mask], ["m"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["m", "k255"], ["keep0"]),
    ]
    keep = "keep0"
    if invert:  # reads 255 as "fill"
        nodes.append(helper.make_node("Sub", ["one", "keep0"], ["keep1"]))
        keep = "keep1"
    result = _mean_fill(nodes, "x", keep, swap)
    nodes.append(helper.make_node("Cast", [result], [out], to=TensorProto.UINT8))
    return _save(
        path, nodes,
        [helper.make_tensor_value_info(image, TensorProto.UINT8, [1, 3, "height", "width"]),
         helper.make_tensor_value_info(mask, TensorProto.UINT8, [1, 1, "height", "width"])],
        helper.make_tensor_value_info(out, TensorProto.UINT8, [1, 3, "height", "width"]),
        "migan_like",
    )


def lama_like(path, *, invert=False, swap=False, unit_output=False, side=512,
              names=("photo", "holes", "result")) -> Path:
    """float [batch,3,512,512] 0..1 + float [1,1,512,512] with 1 = fill -> float 0..255."""
    image, mask, out = names
    nodes = []
    if invert:  # reads 1 as "keep"
        keep = mask
    else:
        nodes.append(helper.make_node("Sub", ["one", mask], ["keep"]))
        keep = "keep"
    result = _mean_fill(nodes, image, keep, swap)
    if unit_output:  # answers 0..1 instead of 0..255
        nodes.append(helper.make_node("Identity", [result], [out]))
    else:
        nodes.append(helper.make_node("Mul", [result, "k255"], [out]))
    return _save(
        path, nodes,
        [helper.make_tensor_value_info(image, TensorProto.FLOAT, ["batch", 3, side, side]),
         helper.make_tensor_value_info(mask, TensorProto.FLOAT, [1, 1, side, side])],
        helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", 3, side, side]),
        "lama_like",
    )
