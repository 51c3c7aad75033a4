"""Tests of profile_bf16's aggregation and table (the traced runs are a benchmark)."""

from __future__ import annotations

import profile_bf16 as pb


def test_op_type_from_label_else_name() -> None:
    assert pb.op_type("a/b/MatMul_1", "MatMul_1 = _MklMatMul(x, y)") == "_MklMatMul"
    assert pb.op_type("StatefulPartitionedCall/x/Cast", "Cast = Cast[SrcT=DT_BFLOAT16](h)") == "Cast"
    assert pb.op_type("_SOURCE", "") == "_SOURCE"
    assert pb.op_type("a/b/Recv:0", "") == "Recv"


def test_aggregate_sums_per_call_and_averages_over_calls() -> None:
    calls = [
        [("m1", "m1 = MatMul(a)", 100), ("m2", "m2 = MatMul(b)", 50), ("c", "c = Cast(a)", 10)],
        [("m1", "m1 = MatMul(a)", 200), ("m2", "m2 = MatMul(b)", 50), ("c", "c = Cast(a)", 30)],
    ]
    rows = pb.aggregate(calls)
    assert [(r.op_type, r.micros, r.nodes) for r in rows] == [("MatMul", 200.0, 2), ("Cast", 20.0, 1)]
    assert pb.aggregate([]) == []


def test_table_folds_the_rest() -> None:
    rows = [pb.OpTime("MatMul", 3000.0, 2), pb.OpTime("Cast", 500.0, 4), pb.OpTime("Mul", 500.0, 1)]
    lines = pb.table(rows, 0.25, top=1).splitlines()
    assert lines[0] == "wall 0.250 s per call (median); op times summed 0.004 s"
    assert "| MatMul | 3.0 | 75.0% | 2 |" in lines
    assert lines[-1] == "| 2 other types | 1.0 | 25.0% | 5 |"


def test_slowest_nodes_by_mean() -> None:
    calls = [[("m1", "m1 = MatMul(a)", 100), ("c", "c = Cast(a)", 10)], [("m1", "m1 = MatMul(a)", 300), ("c", "c = Cast(a)", 30)]]
    assert pb.slowest_nodes(calls, 1) == [("MatMul", "m1", 200.0)]
