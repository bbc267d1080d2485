"""RFC 9162 Merkle tree hashing, inclusion and consistency proofs, and the compact range.

Everything here is pure. Trees are described by their leaf hashes (``leaf_hash`` of
each entry), and proofs for large trees are built from the hashes of *complete,
aligned subtrees*, read through a ``NodeReader`` callable::

    get_node(level, index) -> bytes

must return the Merkle tree hash (MTH) of leaves ``[index * 2**level,
(index + 1) * 2**level)``; level 0 is the leaf hashes themselves. A node is only
ever asked for when it is complete, i.e. when its last leaf lies inside the tree
the proof or root is for, so a store that persists the nodes emitted by
``CompactRange.append`` (and never rewrites them) can answer every request.
The ragged right edge of a tree, which is not a complete subtree, is never
stored: it is recomputed by folding the O(log n) complete subtrees that tile it.
Each proof or root reads O(log n) nodes; ``inclusion_proof_nodes``,
``consistency_proof_nodes`` and ``frontier_node_ids`` name them in advance so a
store can fetch them in one query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
"""``get_node(level, index)``: MTH of the complete aligned subtree at that position."""


@dataclass(frozen=True, slots=True)
class NodeId:
    """A complete aligned subtree: leaves ``[index * 2**level, (index + 1) * 2**level)``."""

    level: int
    index: int


@dataclass(frozen=True, slots=True)
class Node:
    """A complete aligned subtree and its hash, as a store persists it."""

    level: int
    index: int
    hash: bytes

    @property
    def id(self) -> NodeId:
        """Where the subtree sits."""
        return NodeId(self.level, self.index)


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


# --- reference definitions over a list of leaf hashes (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1, over leaf hashes (O(n); for small trees and tests)."""
    _check_hashes(leaf_hashes)
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof_from_leaves(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1 for the tree of all ``leaf_hashes`` (O(n))."""
    _check_hashes(leaf_hashes)
    _check_index(index, len(leaf_hashes))
    return _path(leaf_hashes, index, 0, len(leaf_hashes))


def consistency_proof_from_leaves(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 from ``old_size`` to ``len(leaf_hashes)`` (O(n)).

    Empty when ``old_size`` is 0 or equals the tree size.
    """
    _check_hashes(leaf_hashes)
    _check_sizes(old_size, len(leaf_hashes))
    if old_size in (0, len(leaf_hashes)):
        return []
    return _subproof(leaf_hashes, old_size, 0, len(leaf_hashes), True)


def _mth(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    if end == start:
        return EMPTY_ROOT
    if end - start == 1:
        return leaves[start]
    k = _split(end - start)
    return node_hash(_mth(leaves, start, start + k), _mth(leaves, start + k, end))


def _path(leaves: Sequence[bytes], m: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    k = _split(end - start)
    if m < k:
        return [*_path(leaves, m, start, start + k), _mth(leaves, start + k, end)]
    return [*_path(leaves, m - k, start + k, end), _mth(leaves, start, start + k)]


def _subproof(leaves: Sequence[bytes], m: int, start: int, end: int, b: bool) -> list[bytes]:
    if m == end - start:
        return [] if b else [_mth(leaves, start, end)]
    k = _split(end - start)
    if m <= k:
        return [*_subproof(leaves, m, start, start + k, b), _mth(leaves, start + k, end)]
    return [*_subproof(leaves, m - k, start + k, end, False), _mth(leaves, start, start + k)]


# --- proofs and roots from complete aligned subtrees (O(log n) node reads)


def frontier_node_ids(size: int) -> list[NodeId]:
    """The complete subtrees that tile ``[0, size)``, left to right, largest first.

    They are the state of a ``CompactRange`` of that size, and their right fold is
    the root (``root_from_nodes``).
    """
    _check_sizes(0, size)
    return _tiling(0, size)


def root_from_nodes(size: int, get_node: NodeReader) -> bytes:
    """The root of the tree of ``size`` leaves, from its ``frontier_node_ids``."""
    _check_sizes(0, size)
    return EMPTY_ROOT if size == 0 else _range_hash(0, size, get_node)


def inclusion_proof_nodes(index: int, size: int) -> list[NodeId]:
    """Every node ``inclusion_proof(index, size, ...)`` reads, in the order it reads them."""
    _check_index(index, size)
    return [node for r in _inclusion_ranges(index, size) for node in _tiling(*r)]


def inclusion_proof(index: int, size: int, get_node: NodeReader) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    _check_index(index, size)
    return [_range_hash(start, end, get_node) for start, end in _inclusion_ranges(index, size)]


def consistency_proof_nodes(old_size: int, new_size: int) -> list[NodeId]:
    """Every node ``consistency_proof(old_size, new_size, ...)`` reads, in order."""
    _check_sizes(old_size, new_size)
    return [node for r in _consistency_ranges(old_size, new_size) for node in _tiling(*r)]


def consistency_proof(old_size: int, new_size: int, get_node: NodeReader) -> list[bytes]:
    """The RFC 9162 consistency proof from ``old_size`` to ``new_size`` leaves.

    Empty when ``old_size`` is 0 or equals ``new_size``.
    """
    _check_sizes(old_size, new_size)
    return [_range_hash(s, e, get_node) for s, e in _consistency_ranges(old_size, new_size)]


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs make PATH(index, D[size]), bottom-up."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTHs make PROOF(old_size, D[new_size]), in proof order."""
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, whole = 0, new_size, True
    while old_size != end:
        k = _split(end - start)
        if old_size <= start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, whole = start + k, False
    if not whole:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def _tiling(start: int, end: int) -> list[NodeId]:
    """The complete subtrees, largest first, whose right fold is MTH(D[start:end]).

    Only valid for the ranges proofs use: one complete subtree, or a right edge
    whose start is a multiple of its largest piece (so every piece is aligned).
    """
    nodes: list[NodeId] = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append(NodeId(level, start >> level))
        start += 1 << level
    return nodes


def _range_hash(start: int, end: int, get_node: NodeReader) -> bytes:
    width = end - start
    if width & (width - 1) == 0:
        # One complete subtree, most of any proof: read it without tiling (measured:
        # a third of a warm stored inclusion proof went to building the tiling).
        level = width.bit_length() - 1
        value = get_node(level, start >> level)
        if not _is_hash(value):
            node = NodeId(level, start >> level)
            raise ValueError(f"node reader gave no {HASH_SIZE}-byte hash for {node}")
        return value
    return _fold([_read(get_node, node) for node in _tiling(start, end)])


def _read(get_node: NodeReader, node: NodeId) -> bytes:
    value = get_node(node.level, node.index)
    if not _is_hash(value):
        raise ValueError(f"node reader gave no {HASH_SIZE}-byte hash for {node}")
    return value


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold: h0 · (h1 · (… · hk)), how MTH joins a right edge of decreasing subtrees."""
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2): never raises, rejects garbage


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root``.

    ``proof`` is a list or tuple of 32-byte hashes; anything else is rejected.
    """
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_proof(proof)):
        return False
    if not (_is_count(index) and _is_count(size)) or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows tree (new_size, new_root) extends tree (old_size, old_root).

    ``proof`` is a list or tuple of 32-byte hashes; anything else is rejected.
    RFC 9162 defines the algorithm for 0 < old_size < new_size. At the edges: equal
    sizes need an empty proof and equal roots, and the empty tree (whose root must
    be ``EMPTY_ROOT``) is extended by every tree, with an empty proof.
    """
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_proof(proof)):
        return False
    if not (_is_count(old_size) and _is_count(new_size)) or old_size > new_size:
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


# --- the compact range: what the sequencer keeps between appends


class CompactRange:
    """The frontier of a growing tree: one hash per set bit of its size.

    Appending a leaf costs amortised O(1) hashes and reports the complete
    subtrees it creates (the leaf itself at level 0, then every subtree it
    completes), which is exactly what a store must persist for ``NodeReader``.
    ``restore`` rebuilds the range from a store with O(log n) reads, so
    appending a batch of k leaves to a stored tree costs O(k + log n).
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def restore(cls, size: int, get_node: NodeReader) -> CompactRange:
        """The compact range of a stored tree of ``size`` leaves."""
        compact = cls()
        compact._hashes = [_read(get_node, node) for node in frontier_node_ids(size)]
        compact._size = size
        return compact

    @property
    def size(self) -> int:
        """How many leaves the tree has."""
        return self._size

    @property
    def frontier(self) -> tuple[Node, ...]:
        """The complete subtrees tiling the tree, left to right (see ``frontier_node_ids``)."""
        ids = frontier_node_ids(self._size)
        return tuple(Node(n.level, n.index, h) for n, h in zip(ids, self._hashes, strict=True))

    def root(self) -> bytes:
        """The tree's root hash (``EMPTY_ROOT`` when it has no leaves)."""
        return _fold(self._hashes) if self._hashes else EMPTY_ROOT

    def append(self, leaf: bytes) -> list[Node]:
        """Add one leaf hash; return the complete subtrees it creates, lowest first."""
        if not _is_hash(leaf):
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        index, level, value = self._size, 0, leaf
        created = [Node(0, index, value)]
        while index & 1:
            value = node_hash(self._hashes.pop(), value)
            index, level = index >> 1, level + 1
            created.append(Node(level, index, value))
        self._hashes.append(value)
        self._size += 1
        return created

    def extend(self, leaves: Iterable[bytes]) -> list[Node]:
        """Append leaf hashes in order; return every complete subtree they create."""
        return [node for leaf in leaves for node in self.append(leaf)]


# --- helpers


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_proof(proof: object) -> bool:
    return isinstance(proof, list | tuple) and all(_is_hash(p) for p in proof)


def _check_hashes(leaf_hashes: Sequence[bytes]) -> None:
    if not all(_is_hash(h) for h in leaf_hashes):
        raise ValueError(f"leaf hashes are {HASH_SIZE} bytes each")


def _check_index(index: int, size: int) -> None:
    if not (_is_count(index) and _is_count(size) and index < size):
        raise ValueError(f"leaf index {index!r} is not in a tree of size {size!r}")


def _check_sizes(old_size: int, new_size: int) -> None:
    if not (_is_count(old_size) and _is_count(new_size) and old_size <= new_size):
        raise ValueError(f"tree sizes need 0 <= old <= new, not {old_size!r} -> {new_size!r}")
