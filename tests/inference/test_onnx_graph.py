"""`onnx_graph.gemm_as_matmul` on a hand-built graph: same outputs in ONNX Runtime, no `Gemm` left."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from modeling_moda.inference.onnx_graph import gemm_as_matmul

ort = pytest.importorskip("onnxruntime")


def run(model, x: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})


def test_gemm_as_matmul_keeps_outputs_with_a_shared_transposed_weight():
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((6, 4)).astype(np.float32), "w")  # [out, in]
    bias = numpy_helper.from_array(rng.standard_normal(6).astype(np.float32), "b")
    square = numpy_helper.from_array(rng.standard_normal((6, 6)).astype(np.float32), "s")  # [in, out]
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["y1"], transB=1),  # linear with bias
        helper.make_node("Gemm", ["x", "w"], ["y2"], transB=1),  # the same weight, shared, no bias
        helper.make_node("Gemm", ["y1", "s"], ["y3"]),  # not transposed
        helper.make_node("Gemm", ["y2", "s"], ["y4"], alpha=2.0),  # scaled: left as it is
    ]
    graph = helper.make_graph(
        nodes,
        "linears",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [3, 6]) for n in ("y1", "y2", "y3", "y4")],
        [weight, bias, square],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    x = rng.standard_normal((3, 4)).astype(np.float32)
    expected = run(model, x)
    gemm_as_matmul(model)
    assert [n.op_type for n in model.graph.node].count("Gemm") == 1  # only the scaled one
    assert {i.name for i in model.graph.initializer} == {"w_transposed", "b", "s"}
    for ours, reference in zip(run(model, x), expected, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5)


def test_rewrites_keep_what_only_a_subgraph_reads():
    """An `If` branch reads an outer initializer that no outer node reads: the pruning must keep it."""
    offset = numpy_helper.from_array(np.full(3, 5.0, dtype=np.float32), "offset")
    branch = helper.make_graph(
        [helper.make_node("Add", ["x", "offset"], ["shifted"])],
        "branch",
        [],
        [helper.make_tensor_value_info("shifted", TensorProto.FLOAT, [3])],
    )
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["total"], keepdims=0),
        helper.make_node("Greater", ["total", "zero"], ["positive"]),
        helper.make_node("If", ["positive"], ["y"], then_branch=branch, else_branch=branch),
    ]
    graph = helper.make_graph(
        nodes,
        "with-if",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        [offset, numpy_helper.from_array(np.zeros((), dtype=np.float32), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    gemm_as_matmul(model)  # no Gemm here: only the pruning runs
    assert {i.name for i in model.graph.initializer} == {"offset", "zero"}
    np.testing.assert_allclose(run(model, np.ones(3, np.float32))[0], np.full(3, 6.0))
