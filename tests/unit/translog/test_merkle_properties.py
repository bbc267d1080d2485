"""Properties of the Merkle proofs over random trees: completeness, soundness, O(log n) reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from personae.translog.merkle import (
    CompactRange,
    NodeId,
    consistency_proof,
    consistency_proof_from_leaves,
    consistency_proof_nodes,
    frontier_node_ids,
    inclusion_proof,
    inclusion_proof_from_leaves,
    inclusion_proof_nodes,
    leaf_hash,
    root,
    root_from_nodes,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 300
SETTINGS = settings(max_examples=25, deadline=None)


@dataclass
class Store:
    """What a log store keeps: the nodes CompactRange emits, and a record of reads."""

    nodes: dict[NodeId, bytes] = field(default_factory=dict)
    reads: list[NodeId] = field(default_factory=list)

    def get(self, level: int, index: int) -> bytes:
        self.reads.append(NodeId(level, index))
        return self.nodes[NodeId(level, index)]

    def take_reads(self) -> list[NodeId]:
        reads, self.reads = self.reads, []
        return reads


@dataclass
class Tree:
    leaves: list[bytes]
    store: Store
    roots: list[bytes]  # roots[n] is the root of the first n leaves


def build(leaves: list[bytes]) -> Tree:
    compact, store = CompactRange(), Store()
    roots = [compact.root()]
    for leaf in leaves:
        for node in compact.append(leaf):
            assert node.id not in store.nodes, "a subtree is emitted twice"
            store.nodes[node.id] = node.hash
        roots.append(compact.root())
    return Tree(leaves, store, roots)


@st.composite
def any_leaves(draw: st.DrawFn) -> list[bytes]:
    """Leaves of any tree size up to MAX_SIZE, repeating with a random period: proofs must
    not care about duplicates."""
    size = draw(st.integers(1, MAX_SIZE), label="size")
    period = draw(st.integers(1, size), label="period")
    salt = draw(st.binary(max_size=8), label="salt")
    return [leaf_hash(salt + (i % period).to_bytes(4, "big")) for i in range(size)]


@st.composite
def distinct_leaves(draw: st.DrawFn, min_size: int = 1) -> list[bytes]:
    """Leaves with distinct hashes, so that no wrong statement can be true by coincidence."""
    size = draw(st.integers(min_size, MAX_SIZE), label="size")
    salt = draw(st.binary(max_size=8), label="salt")
    return [leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_shape(index: int, size: int) -> tuple[str, ...]:
    """Which side each sibling of PATH(index, D[size]) sits on, bottom-up (RFC 9162 §2.1.3.1)."""
    if size == 1:
        return ()
    k = _split(size)
    if index < k:
        return (*inclusion_shape(index, k), "right")
    return (*inclusion_shape(index - k, size - k), "left")


def consistency_shape(old: int, new: int, whole: bool = True) -> tuple[str, ...]:
    """How each hash of PROOF(old, D[new]) combines, in proof order (RFC 9162 §2.1.4.1)."""
    if old == new:
        return () if whole else ("start",)
    k = _split(new)
    if old <= k:
        return (*consistency_shape(old, k, whole), "right")
    return (*consistency_shape(old - k, new - k, False), "left")


def mutations(proof: list[bytes], data: st.DataObject) -> list[tuple[str, list[bytes]]]:
    """Changed proofs: a flipped bit, a swap, a dropped, added or duplicated hash."""
    out: list[tuple[str, list[bytes]]] = []
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")
    at = data.draw(st.integers(0, len(proof)), label="insert at")
    out.append(("added node", [*proof[:at], extra, *proof[at:]]))
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        flipped = bytearray(proof[i])
        flipped[bit // 8] ^= 1 << (bit % 8)
        out.append(("flipped bit", [*proof[:i], bytes(flipped), *proof[i + 1 :]]))
        out.append(("dropped node", [*proof[:i], *proof[i + 1 :]]))
        out.append(("duplicated node", [*proof[: i + 1], proof[i], *proof[i + 1 :]]))
    if len(proof) > 1:
        i, j = data.draw(
            st.lists(st.integers(0, len(proof) - 1), min_size=2, max_size=2, unique=True),
            label="swap",
        )
        swapped = [*proof]
        swapped[i], swapped[j] = swapped[j], swapped[i]
        out.append(("reordered nodes", swapped))
        out.append(("reversed", proof[::-1]))
    return [(name, changed) for name, changed in out if changed != proof]


@SETTINGS
@given(any_leaves())
def test_compact_range_and_stored_nodes_give_the_reference_root(leaves: list[bytes]) -> None:
    tree = build(leaves)
    for size in range(len(leaves) + 1):
        expected = root(leaves[:size])
        assert tree.roots[size] == expected
        assert root_from_nodes(size, tree.store.get) == expected
        assert tree.store.take_reads() == frontier_node_ids(size)
        assert CompactRange.restore(size, tree.store.get).root() == expected
        assert tree.store.take_reads() == frontier_node_ids(size)
    # Every stored node is the MTH of the complete subtree it names.
    for node, value in tree.store.nodes.items():
        start = node.index << node.level
        assert value == root(leaves[start : start + (1 << node.level)])


@SETTINGS
@given(any_leaves())
def test_every_inclusion_proof_verifies_and_reads_log_n_nodes(leaves: list[bytes]) -> None:
    tree, size = build(leaves), len(leaves)
    for index in range(size):
        proof = inclusion_proof(index, size, tree.store.get)
        reads = tree.store.take_reads()
        assert reads == inclusion_proof_nodes(index, size)
        assert len(reads) <= 2 * size.bit_length()
        assert proof == inclusion_proof_from_leaves(leaves, index)
        assert verify_inclusion(leaves[index], index, size, proof, tree.roots[size])


@SETTINGS
@given(any_leaves())
def test_every_consistency_proof_verifies_and_reads_log_n_nodes(leaves: list[bytes]) -> None:
    tree, new = build(leaves), len(leaves)
    for old in range(new + 1):
        proof = consistency_proof(old, new, tree.store.get)
        reads = tree.store.take_reads()
        assert reads == consistency_proof_nodes(old, new)
        assert len(reads) <= 2 * new.bit_length()
        assert proof == consistency_proof_from_leaves(leaves, old)
        assert verify_consistency(old, new, tree.roots[old], tree.roots[new], proof)


@SETTINGS
@given(distinct_leaves(), st.data())
def test_a_tampered_inclusion_proof_fails(leaves: list[bytes], data: st.DataObject) -> None:
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof_from_leaves(leaves, index)
    tree_root = root(leaves)
    for name, changed in mutations(proof, data):
        assert not verify_inclusion(leaves[index], index, size, changed, tree_root), name
    for other in range(size):
        if other != index:
            assert not verify_inclusion(leaves[index], other, size, proof, tree_root)
            assert not verify_inclusion(leaves[other], index, size, proof, tree_root)
    assert not verify_inclusion(leaves[index], index, size, proof, root(leaves[:-1]))


@SETTINGS
@given(distinct_leaves(), st.data())
def test_an_inclusion_proof_fails_under_any_size_of_another_shape(
    leaves: list[bytes], data: st.DataObject
) -> None:
    # The RFC 9162 verifier sees a size only through the path's shape: a size that
    # gives the same shape computes the same root (harmless, since a checkpoint
    # binds size and root together); every other size must fail.
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof_from_leaves(leaves, index)
    tree_root = root(leaves)
    for claimed in range(2 * size + 2):
        if claimed != size:
            same_shape = index < claimed and inclusion_shape(index, claimed) == inclusion_shape(
                index, size
            )
            assert verify_inclusion(leaves[index], index, claimed, proof, tree_root) == same_shape


@SETTINGS
@given(distinct_leaves(min_size=2), st.data())
def test_a_tampered_consistency_proof_fails(leaves: list[bytes], data: st.DataObject) -> None:
    new = len(leaves)
    old = data.draw(st.integers(1, new - 1), label="old size")
    proof = consistency_proof_from_leaves(leaves, old)
    old_root, new_root = root(leaves[:old]), root(leaves)
    for name, changed in mutations(proof, data):
        assert not verify_consistency(old, new, old_root, new_root, changed), name
    assert not verify_consistency(old, new, new_root, old_root, proof)
    assert not verify_consistency(old, new, root(leaves[: old - 1]), new_root, proof)
    assert not verify_consistency(old, new, old_root, root(leaves[:-1]), proof)
    assert not verify_consistency(old, new, old_root, new_root, [])


@SETTINGS
@given(distinct_leaves(min_size=2), st.data())
def test_a_consistency_proof_fails_under_any_sizes_of_another_shape(
    leaves: list[bytes], data: st.DataObject
) -> None:
    new = len(leaves)
    old = data.draw(st.integers(1, new - 1), label="old size")
    proof = consistency_proof_from_leaves(leaves, old)
    old_root, new_root = root(leaves[:old]), root(leaves)
    shape = consistency_shape(old, new)
    claims = {(old, n) for n in range(old + 1, 2 * new + 2)} | {(m, new) for m in range(1, new)}
    claims.add((data.draw(st.integers(1, 2 * new), label="m"), data.draw(st.integers(1, 4 * new))))
    for claimed_old, claimed_new in claims - {(old, new)}:
        same_shape = (
            claimed_old < claimed_new and consistency_shape(claimed_old, claimed_new) == shape
        )
        verdict = verify_consistency(claimed_old, claimed_new, old_root, new_root, proof)
        assert verdict == same_shape, (claimed_old, claimed_new)


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.binary(max_size=40),
    st.text(max_size=4),
    st.lists(st.binary(min_size=31, max_size=33), max_size=70),
)


@settings(max_examples=300, deadline=None)
@given(junk, junk, junk, junk, junk)
def test_verifiers_answer_false_to_anything(a: Any, b: Any, c: Any, d: Any, e: Any) -> None:
    assert verify_inclusion(a, b, c, d, e) is False
    assert verify_consistency(a, b, c, d, e) is False


@settings(max_examples=300, deadline=None)
@given(
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64),
    st.integers(0, 2**64),
    st.lists(st.binary(min_size=32, max_size=32), max_size=70),
    st.binary(min_size=32, max_size=32),
)
def test_random_well_formed_claims_fail(
    leaf: bytes, index: int, size: int, proof: list[bytes], tree_root: bytes
) -> None:
    # Only the trivial statements can hold without a hash preimage.
    trivial = not proof and leaf == tree_root
    assert verify_inclusion(leaf, index, size, proof, tree_root) is (
        trivial and index == 0 < size == 1
    )
    assert verify_consistency(index, size, leaf, tree_root, proof) is (
        trivial and index == size > 0
    )
