"""Prefetch candidates: by arithmetic alone, a small superset of every node a proof reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from personae.translog.merkle import (
    consistency_proof_nodes,
    frontier_node_ids,
    inclusion_proof_nodes,
)
from personae.translog.prefetch import (
    consistency_candidates,
    frontier,
    inclusion_candidates,
    siblings,
)


def _keys(nodes: list[object]) -> set[tuple[int, int]]:
    return {(n.level, n.index) for n in nodes}  # type: ignore[attr-defined]


def test_every_proof_of_small_trees_reads_only_candidates() -> None:
    for size in range(1, 130):
        assert list(frontier(size)) == [(n.level, n.index) for n in frontier_node_ids(size)]
        for index in range(size):
            assert _keys(inclusion_proof_nodes(index, size)) <= set(
                inclusion_candidates(index, size)
            )
        for old in range(size + 1):
            assert _keys(consistency_proof_nodes(old, size)) <= set(
                consistency_candidates(old, size)
            )


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 2**40), data=st.data())
def test_every_proof_of_large_trees_reads_only_candidates(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    inclusion = set(inclusion_candidates(index, size))
    assert _keys(inclusion_proof_nodes(index, size)) <= inclusion
    assert _keys(consistency_proof_nodes(old, size)) <= set(consistency_candidates(old, size))
    # small: at most two per level
    assert len(inclusion) <= 2 * size.bit_length()


def test_siblings_are_complete_within_the_tree() -> None:
    assert siblings(5, 8) == [(0, 4), (1, 3), (2, 0)]
    assert siblings(9, 11) == [(0, 8), (3, 0)]  # (1, 5) and (2, 3) would run past leaf 10
    assert siblings(0, 1) == []
    assert consistency_candidates(0, 9) == consistency_candidates(9, 9) == []
