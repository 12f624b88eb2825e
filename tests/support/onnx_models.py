"""Tiny ONNX models with exactly the inputs and outputs of MI-GAN and LaMa, built here with the
`onnx` helper API (the real files cannot be downloaded on these machines).

They fill the hole with the mean colour of the kept pixels: a crude but plausible fill that the
self-check must accept. The MI-GAN one ends like the authors' pipeline export: it composites
its answer with its own input under a widened, blurred keep mask (`migan_compose`), so what
the engine feeds in the hole shows in a rim 2 to 3 px wide. The LaMa one composites under the
hard mask, as Carve's export does.

Flags break one convention each, as a wrongly wired export would; `trap` makes a hostile graph
(endless loop, huge allocation, NaN answer), optionally only for holes larger than a size.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

from bench.standin_models import migan_compose  # the real export's last step, built once

OPSET = 17
# Holes in the self-check (128 x 128 at 512) have 16,384 pixels: a trap set off above this
# many lets a model pass its check and misbehave on a real, larger hole.
LARGE_HOLE = 20_000


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


def _trap(nodes: list, weights: list, x: str, hole: str, trap: str | None, over: int) -> str:
    """Nodes that leave `x` as it is, or loop forever / allocate 3 GB / turn it into NaN, when
    the hole has more than `over` pixels; returns the result's name."""
    if trap is None:
        return x
    # excess > 0 exactly when the hole is larger than `over` pixels
    nodes += [helper.make_node("ReduceSum", [hole], ["trap_area"], keepdims=0),
              helper.make_node("Sub", ["trap_area", "trap_over"], ["trap_excess"])]
    weights.append(helper.make_tensor("trap_over", TensorProto.FLOAT, [], [float(over)]))
    if trap == "nan":  # sqrt of a negative number is NaN; 0 * NaN stays NaN
        nodes += [helper.make_node("Neg", ["trap_excess"], ["trap_room"]),
                  helper.make_node("Sqrt", ["trap_room"], ["trap_root"]),
                  helper.make_node("Mul", ["trap_root", "zero"], ["trap_nan"]),
                  helper.make_node("Add", [x, "trap_nan"], ["trapped"])]
    elif trap == "loop":  # a Loop of 10^15 steps once the hole is large enough
        body = helper.make_graph(
            [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
             helper.make_node("Add", ["acc_in", "step"], ["acc_out"])],
            "endless",
            [helper.make_tensor_value_info("i", TensorProto.INT64, []),
             helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
             helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [])],
            [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
             helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [])],
            initializer=[helper.make_tensor("step", TensorProto.FLOAT, [], [1.0])])
        weights += [helper.make_tensor("trap_true", TensorProto.BOOL, [], [True]),
                    helper.make_tensor("trap_many", TensorProto.FLOAT, [], [1e15])]
        nodes += [helper.make_node("Sign", ["trap_excess"], ["trap_sign"]),
                  helper.make_node("Relu", ["trap_sign"], ["trap_on"]),
                  helper.make_node("Mul", ["trap_on", "trap_many"], ["trap_steps"]),
                  helper.make_node("Cast", ["trap_steps"], ["trap_count"], to=TensorProto.INT64),
                  helper.make_node("Loop", ["trap_count", "trap_true", "trap_area"], ["trap_total"], body=body),
                  helper.make_node("Mul", ["trap_total", "zero"], ["trap_nothing"]),
                  helper.make_node("Add", [x, "trap_nothing"], ["trapped"])]
    elif trap == "allocate":  # 3 GB of float ones, whatever the hole
        weights.append(helper.make_tensor("trap_shape", TensorProto.INT64, [1], [750_000_000]))
        nodes += [helper.make_node("ConstantOfShape", ["trap_shape"], ["trap_block"],
                                   value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
                  helper.make_node("ReduceSum", ["trap_block"], ["trap_sum"], keepdims=0),
                  helper.make_node("Mul", ["trap_sum", "zero"], ["trap_nothing"]),
                  helper.make_node("Add", [x, "trap_nothing"], ["trapped"])]
    else:
        raise ValueError(f"unknown trap {trap!r}")
    return "trapped"


def _constants() -> list:
    return [
        helper.make_tensor("hw", TensorProto.INT64, [2], [2, 3]),
        helper.make_tensor("tiny", TensorProto.FLOAT, [], [1e-6]),
        helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("k255", TensorProto.FLOAT, [], [255.0]),
        helper.make_tensor("bgr", TensorProto.INT64, [3], [2, 1, 0]),
    ]


def _save(path: Path, nodes, inputs, output, name: str, weights=()) -> Path:
    graph = helper.make_graph(nodes, name, inputs, [output], initializer=_constants() + list(weights))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    onnx.checker.check_model(model, full_check=True)
    path = Path(path)
    path.write_bytes(model.SerializeToString())
    return path


def migan_like(path, *, invert=False, swap=False, black_rim=False, trap=None, over=0,
               names=("picture", "known", "painted")) -> Path:
    """uint8 [1,3,H,W] RGB + uint8 [1,1,H,W] with 255 = keep -> uint8 [1,3,H,W], composited
    like the real pipeline. `black_rim` composites with the hole zeroed, as the old wiring fed it."""
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
    weights: list = []
    nodes.append(helper.make_node("Sub", ["one", keep], ["holes"]))
    generated = _trap(nodes, weights, _mean_fill(nodes, "x", keep, swap), "holes", trap, over)
    under = "x"
    if black_rim:
        nodes.append(helper.make_node("Mul", ["x", keep], ["x_black"]))
        under = "x_black"
    composed, compose_weights = migan_compose(under, keep, generated, "composed")
    nodes += composed + [
        helper.make_node("Round", ["composed"], ["rounded"]),
        helper.make_node("Clip", ["rounded", "zero", "k255"], ["clipped"]),
        helper.make_node("Cast", ["clipped"], [out], to=TensorProto.UINT8),
    ]
    return _save(
        path, nodes,
        [helper.make_tensor_value_info(image, TensorProto.UINT8, [1, 3, "height", "width"]),
         helper.make_tensor_value_info(mask, TensorProto.UINT8, [1, 1, "height", "width"])],
        helper.make_tensor_value_info(out, TensorProto.UINT8, [1, 3, "height", "width"]),
        "migan_like", weights + compose_weights,
    )


def lama_like(path, *, invert=False, swap=False, unit_output=False, side=512, trap=None, over=0,
              names=("photo", "holes", "result")) -> Path:
    """float [batch,3,512,512] 0..1 + float [1,1,512,512] with 1 = fill -> float 0..255."""
    image, mask, out = names
    nodes = []
    if invert:  # reads 1 as "keep"
        keep = mask
    else:
        nodes.append(helper.make_node("Sub", ["one", mask], ["keep"]))
        keep = "keep"
    weights: list = []
    result = _trap(nodes, weights, _mean_fill(nodes, image, keep, swap), mask, trap, over)
    if unit_output:  # answers 0..1 instead of 0..255
        nodes.append(helper.make_node("Identity", [result], [out]))
    else:
        nodes.append(helper.make_node("Mul", [result, "k255"], [out]))
    return _save(
        path, nodes,
        [helper.make_tensor_value_info(image, TensorProto.FLOAT, ["batch", 3, side, side]),
         helper.make_tensor_value_info(mask, TensorProto.FLOAT, [1, 1, side, side])],
        helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", 3, side, side]),
        "lama_like", weights,
    )
