"""Auditing a stored log: each leaf against its entry, each stored node against the leaves.

A store keeps leaves and the complete subtrees (nodes) ``CompactRange`` emitted for
them. ``LogAuditor`` replays the stored leaves in order, in chunks, and compares
every node the replay emits with the stored one; ``completed_ranges`` names, per
level, the stored nodes a chunk of leaves completes, so a store can fetch them in
one range query. Pure: the caller does the reading.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from personae.translog.merkle import CompactRange, NodeId, leaf_hash


class LogDamage(ValueError):
    """A stored log that disagrees with itself; ``index`` is the first leaf concerned."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class StoredLeaf:
    """A leaf as stored: its index, its stored leaf hash and its entry bytes."""

    index: int
    hash: bytes
    entry: bytes


def completed_ranges(start: int, end: int) -> list[tuple[int, int, int]]:
    """``(level, first, stop)``: node indexes ``first <= i < stop`` per level completed by
    appending leaves ``[start, end)`` to a tree of ``start`` leaves.

    Node ``(level, i)`` is complete once leaf ``(i + 1) * 2**level - 1`` is appended.
    """
    if not 0 <= start <= end:
        raise ValueError(f"a leaf range needs 0 <= start <= end, not {start}..{end}")
    ranges = []
    level = 0
    while (1 << level) <= end:
        first = ((start + (1 << level)) >> level) - 1
        stop = end >> level
        if first < stop:
            ranges.append((level, first, stop))
        level += 1
    return ranges


def describe_node(node: NodeId) -> str:
    """A node as a reader sees it: its level, its index and the leaves it covers."""
    first = node.index << node.level
    last = first + (1 << node.level) - 1
    leaves = f"leaf {first}" if first == last else f"leaves {first}-{last}"
    return f"node {node.index} at level {node.level} ({leaves})"


class LogAuditor:
    """Replays stored leaves from index 0, checking entries, leaf hashes and stored nodes."""

    def __init__(self) -> None:
        self._compact = CompactRange()

    @property
    def size(self) -> int:
        """How many leaves have been checked."""
        return self._compact.size

    def root(self) -> bytes:
        """The root of the leaves checked so far."""
        return self._compact.root()

    def feed(
        self, leaves: Sequence[StoredLeaf], stored_nodes: Mapping[tuple[int, int], bytes]
    ) -> None:
        """Check the next leaves (in index order) and every node they complete.

        ``stored_nodes`` holds the store's nodes in ``completed_ranges`` of these
        leaves, keyed ``(level, index)``. Raises ``LogDamage`` naming the first leaf
        or node that is wrong.
        """
        start = self.size
        for offset, leaf in enumerate(leaves):
            expected = start + offset
            if leaf.index != expected:
                raise LogDamage(f"leaf {expected} is missing from the store", expected)
            if leaf_hash(leaf.entry) != leaf.hash:
                raise LogDamage(
                    f"leaf {expected}: its entry does not hash to its stored leaf hash", expected
                )
        for node in self._compact.extend(leaf.hash for leaf in leaves):
            stored = stored_nodes.get((node.level, node.index))
            if stored != node.hash:
                state = "is missing" if stored is None else "does not match the leaves under it"
                raise LogDamage(
                    f"stored {describe_node(node.id)} {state}", node.index << node.level
                )


def audit_log(
    size: int,
    leaf_rows: Callable[[int, int], Sequence[StoredLeaf]],
    nodes_in_ranges: Callable[[list[tuple[int, int, int]]], Mapping[tuple[int, int], bytes]],
    chunk: int = 4096,
) -> bytes:
    """Replay a stored log of ``size`` leaves, ``chunk`` at a time; its root.

    ``leaf_rows(start, end)`` reads stored leaves, ``nodes_in_ranges(ranges)`` the
    stored nodes of ``completed_ranges``. Raises ``LogDamage`` at the first bad
    leaf or node, or the first missing leaf.
    """
    auditor = LogAuditor()
    for start in range(0, size, chunk):
        end = min(size, start + chunk)
        auditor.feed(leaf_rows(start, end), nodes_in_ranges(completed_ranges(start, end)))
    if auditor.size != size:
        raise LogDamage(f"leaf {auditor.size} is missing from the store", auditor.size)
    return auditor.root()
