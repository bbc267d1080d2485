"""The stored-log auditor: completed node ranges, and every kind of damage named at its index."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.translog.audit import (
    LogAuditor,
    LogDamage,
    StoredLeaf,
    completed_ranges,
    describe_node,
)
from personae.translog.merkle import CompactRange, NodeId, leaf_hash, root


def _store(count: int) -> tuple[list[StoredLeaf], dict[tuple[int, int], bytes]]:
    leaves = [StoredLeaf(i, leaf_hash(b"entry %d" % i), b"entry %d" % i) for i in range(count)]
    compact = CompactRange()
    nodes = {(n.level, n.index): n.hash for n in compact.extend(x.hash for x in leaves)}
    return leaves, nodes


def _audit(leaves: list[StoredLeaf], nodes: dict[tuple[int, int], bytes], chunk: int) -> LogAuditor:
    auditor = LogAuditor()
    for start in range(0, len(leaves), chunk):
        part = leaves[start : start + chunk]
        first = part[0].index if part else start
        wanted = completed_ranges(first, first + len(part))
        auditor.feed(
            part,
            {
                k: v
                for k, v in nodes.items()
                if any(k[0] == lv and a <= k[1] < b for lv, a, b in wanted)
            },
        )
    return auditor


@settings(max_examples=40, deadline=None)
@given(start=st.integers(0, 300), count=st.integers(0, 300))
def test_completed_ranges_name_exactly_the_nodes_an_append_emits(start: int, count: int) -> None:
    compact = CompactRange()
    compact.extend(leaf_hash(b"%d" % i) for i in range(start))
    emitted = {n.id for n in compact.extend(leaf_hash(b"%d" % i) for i in range(count))}
    named = {
        NodeId(level, i)
        for level, a, b in completed_ranges(start, start + count)
        for i in range(a, b)
    }
    assert named == emitted


def test_completed_ranges_refuse_a_backward_range() -> None:
    with pytest.raises(ValueError, match="start <= end"):
        completed_ranges(5, 4)


@pytest.mark.parametrize("chunk", [1, 3, 8, 100])
def test_an_intact_store_passes_in_any_chunking(chunk: int) -> None:
    leaves, nodes = _store(37)
    auditor = _audit(leaves, nodes, chunk)
    assert auditor.size == 37
    assert auditor.root() == root([x.hash for x in leaves])


def test_an_entry_that_no_longer_hashes_to_its_leaf_is_named() -> None:
    leaves, nodes = _store(20)
    leaves[13] = replace(leaves[13], entry=b"entry 13, rewritten")
    with pytest.raises(LogDamage, match="leaf 13: its entry does not hash") as caught:
        _audit(leaves, nodes, 8)
    assert caught.value.index == 13


def test_a_leaf_rewritten_with_its_hash_is_caught_by_the_stored_node() -> None:
    leaves, nodes = _store(20)
    leaves[6] = StoredLeaf(6, leaf_hash(b"forged"), b"forged")
    with pytest.raises(LogDamage, match="node 6 at level 0 \\(leaf 6\\)") as caught:
        _audit(leaves, nodes, 8)
    assert caught.value.index == 6


@pytest.mark.parametrize(("level", "index", "first"), [(1, 2, 4), (3, 1, 8), (4, 0, 0)])
def test_a_wrong_or_missing_interior_node_is_named(level: int, index: int, first: int) -> None:
    leaves, nodes = _store(20)
    nodes[(level, index)] = bytes(32)
    with pytest.raises(LogDamage, match="does not match the leaves under it") as caught:
        _audit(leaves, nodes, 5)
    assert caught.value.index == first
    del nodes[(level, index)]
    with pytest.raises(LogDamage, match=f"node {index} at level {level} .* is missing"):
        _audit(leaves, nodes, 5)


def test_a_missing_leaf_is_named() -> None:
    leaves, nodes = _store(10)
    del leaves[4]
    with pytest.raises(LogDamage, match="leaf 4 is missing") as caught:
        _audit(leaves, nodes, 3)
    assert caught.value.index == 4


def test_nodes_are_described_by_the_leaves_they_cover() -> None:
    assert describe_node(NodeId(0, 5)) == "node 5 at level 0 (leaf 5)"
    assert describe_node(NodeId(2, 3)) == "node 3 at level 2 (leaves 12-15)"
