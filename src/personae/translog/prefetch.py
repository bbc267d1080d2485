"""Which stored nodes a proof may read, by arithmetic alone: a superset to fetch in one query.

``merkle.inclusion_proof_nodes`` and ``consistency_proof_nodes`` name a proof's
nodes exactly, but cost as much as building the proof. Every node a proof reads
is either the sibling of an ancestor of one leaf (the proven leaf, or the last
leaf of the old tree) or a piece of the right edge of a tree, and the pieces of a
right edge are the frontier of that tree's size. Their union, about 2 log n
``(level, index)`` pairs, is cheap to compute; a store fetches it at once and the
proof reads from it. Callers still handle a read outside it (a store that lost a
node), by asking for the exact list.
"""

from __future__ import annotations

from functools import lru_cache

Key = tuple[int, int]
"""A node as ``(level, index)``: leaves ``[index * 2**level, (index + 1) * 2**level)``."""


@lru_cache(maxsize=64)
def frontier(size: int) -> tuple[Key, ...]:
    """The complete subtrees tiling ``[0, size)``, largest first (``merkle.frontier_node_ids``).

    Proofs are mostly asked of the latest sizes: they are remembered.
    """
    keys, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return tuple(keys)


def siblings(leaf: int, size: int) -> list[Key]:
    """The complete siblings, within ``size`` leaves, of every ancestor of ``leaf``."""
    keys, level = [], 0
    while (1 << level) < size:
        sibling = (leaf >> level) ^ 1
        if (sibling + 1) << level <= size:
            keys.append((level, sibling))
        level += 1
    return keys


def inclusion_candidates(index: int, size: int) -> list[Key]:
    """A superset of the nodes the inclusion proof of ``index`` in ``size`` leaves reads."""
    return [*siblings(index, size), *frontier(size)]


def consistency_candidates(old: int, new: int) -> list[Key]:
    """A superset of the nodes the consistency proof from ``old`` to ``new`` leaves reads."""
    if old in (0, new):
        return []
    return [*siblings(old - 1, new), *frontier(old), *frontier(new)]
