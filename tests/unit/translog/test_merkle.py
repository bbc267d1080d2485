"""RFC 9162 Merkle hashing and proofs against the transparency-dev/merkle known answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from personae.translog.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Node,
    NodeId,
    consistency_proof,
    consistency_proof_from_leaves,
    consistency_proof_nodes,
    frontier_node_ids,
    inclusion_proof,
    inclusion_proof_from_leaves,
    inclusion_proof_nodes,
    leaf_hash,
    node_hash,
    root,
    root_from_nodes,
    verify_consistency,
    verify_inclusion,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "vectors" / "rfc9162_merkle.json").read_text("utf-8")
)
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
NODES = [[bytes.fromhex(h) for h in level] for level in VECTORS["node_hashes"]]
ROOTS = {v["size"]: bytes.fromhex(v["root"]) for v in VECTORS["roots"]}
ROOTS[0] = bytes.fromhex(VECTORS["empty_root"])
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def vector_node(level: int, index: int) -> bytes:
    """A NodeReader over the published node hashes of the 8-leaf tree."""
    return NODES[level][index]


def ids(pairs: list[list[int]]) -> list[NodeId]:
    return [NodeId(level, index) for level, index in pairs]


def unhex(hashes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


def test_hash_primitives_match_the_published_tree() -> None:
    assert EMPTY_ROOT == ROOTS[0] == root([])
    assert NODES[0] == LEAVES
    for level in range(1, len(NODES)):
        below = NODES[level - 1]
        assert NODES[level] == [
            node_hash(below[2 * i], below[2 * i + 1]) for i in range(len(NODES[level]))
        ]


@pytest.mark.parametrize("size", sorted(ROOTS))
def test_roots(size: int) -> None:
    assert root(LEAVES[:size]) == ROOTS[size]
    assert root_from_nodes(size, vector_node) == ROOTS[size]
    compact = CompactRange()
    compact.extend(LEAVES[:size])
    assert compact.size == size
    assert compact.root() == ROOTS[size]


@pytest.mark.parametrize("case", VECTORS["frontiers"], ids=lambda c: f"size{c['size']}")
def test_frontiers(case: dict[str, Any]) -> None:
    expected = ids(case["nodes"])
    assert frontier_node_ids(case["size"]) == expected
    compact = CompactRange()
    compact.extend(LEAVES[: case["size"]])
    assert compact.frontier == tuple(
        Node(n.level, n.index, vector_node(n.level, n.index)) for n in expected
    )


def test_compact_range_emits_every_complete_subtree_once() -> None:
    compact = CompactRange()
    emitted = compact.extend(LEAVES)
    assert len({node.id for node in emitted}) == len(emitted)
    assert {(node.level, node.index): node.hash for node in emitted} == {
        (level, index): value for level, row in enumerate(NODES) for index, value in enumerate(row)
    }
    # The last leaf of eight completes one subtree per level, lowest first.
    assert [node.id for node in emitted[-4:]] == ids([[0, 7], [1, 3], [2, 1], [3, 0]])


def test_compact_range_restores_from_stored_nodes() -> None:
    compact = CompactRange.restore(5, vector_node)
    assert compact.root() == ROOTS[5]
    created = compact.extend(LEAVES[5:])
    assert compact.root() == ROOTS[8]
    assert all(node.hash == vector_node(node.level, node.index) for node in created)


def test_compact_range_refuses_what_is_not_a_hash() -> None:
    compact = CompactRange()
    with pytest.raises(ValueError, match="32 bytes"):
        compact.append(b"short")
    with pytest.raises(ValueError, match="32-byte hash"):
        CompactRange.restore(3, lambda level, index: b"")
    assert compact.size == 0
    assert compact.root() == EMPTY_ROOT


def _inclusion_probes(
    index: int, size: int, proof: list[bytes], leaf: bytes, tree_root: bytes
) -> dict[str, tuple[bytes, int, int, list[bytes], bytes]]:
    """The corruptions transparency-dev/merkle's verifier test applies to a good proof."""
    probes = {
        "index - 1": (leaf, index - 1, size, proof, tree_root),
        "index + 1": (leaf, index + 1, size, proof, tree_root),
        "index ^ 2": (leaf, index ^ 2, size, proof, tree_root),
        "size * 2": (leaf, index, size * 2, proof, tree_root),
        "size // 2": (leaf, index, size // 2, proof, tree_root),
        "wrong leaf": (b"WrongLeaf", index, size, proof, tree_root),
        "empty root": (leaf, index, size, proof, EMPTY_ROOT),
        "random root": (leaf, index, size, proof, SOME_HASH),
        "trailing garbage": (leaf, index, size, [*proof, b""], tree_root),
        "trailing root": (leaf, index, size, [*proof, tree_root], tree_root),
        "preceding garbage": (leaf, index, size, [b"", *proof], tree_root),
        "preceding root": (leaf, index, size, [tree_root, *proof], tree_root),
    }
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([proof[i][0] ^ 8]) + proof[i][1:]
        probes[f"proof[{i}] bit 3"] = (leaf, index, size, flipped, tree_root)
    if proof:
        probes["removed component"] = (leaf, index, size, proof[:-1], tree_root)
    if len(proof) > 1:
        probes["inserted component"] = (
            leaf,
            index,
            size,
            [proof[0], SOME_HASH, *proof[1:]],
            tree_root,
        )
    return probes


@pytest.mark.parametrize(
    "case", VECTORS["inclusion_proofs"], ids=lambda c: f"{c['index']}of{c['size']}"
)
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    index, size, expected = case["index"], case["size"], unhex(case["proof"])
    assert inclusion_proof_from_leaves(LEAVES[:size], index) == expected
    assert inclusion_proof(index, size, vector_node) == expected
    assert verify_inclusion(LEAVES[index], index, size, expected, ROOTS[size])
    for name, probe in _inclusion_probes(index, size, expected, LEAVES[index], ROOTS[size]).items():
        assert not verify_inclusion(*probe), name


def _consistency_probes(
    old: int, new: int, proof: list[bytes], old_root: bytes, new_root: bytes
) -> dict[str, tuple[int, int, bytes, bytes, list[bytes]]]:
    """The corruptions transparency-dev/merkle's verifier test applies to a good proof."""
    probes = {
        "old - 1": (old - 1, new, old_root, new_root, proof),
        "old + 1": (old + 1, new, old_root, new_root, proof),
        "old ^ 2": (old ^ 2, new, old_root, new_root, proof),
        "new * 2": (old, new * 2, old_root, new_root, proof),
        "new // 2": (old, new // 2, old_root, new_root, proof),
        "wrong old root": (old, new, b"WrongRoot", new_root, proof),
        "wrong new root": (old, new, old_root, b"WrongRoot", proof),
        "swapped roots": (old, new, new_root, old_root, proof),
        "empty proof": (old, new, old_root, new_root, []),
        "trailing garbage": (old, new, old_root, new_root, [*proof, b""]),
        "trailing old root": (old, new, old_root, new_root, [*proof, old_root]),
        "trailing new root": (old, new, old_root, new_root, [*proof, new_root]),
        "preceding garbage": (old, new, old_root, new_root, [b"", *proof]),
        "preceding old root": (old, new, old_root, new_root, [old_root, *proof]),
        "preceding new root": (old, new, old_root, new_root, [new_root, *proof]),
        "preceding proof[0]": (old, new, old_root, new_root, [proof[0], *proof]),
        "truncated proof": (old, new, old_root, new_root, proof[:-1]),
    }
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        probes[f"proof[{i}] bit 4"] = (old, new, old_root, new_root, flipped)
    return probes


@pytest.mark.parametrize(
    "case", VECTORS["consistency_proofs"], ids=lambda c: f"{c['old_size']}to{c['new_size']}"
)
def test_consistency_vectors(case: dict[str, Any]) -> None:
    old, new, expected = case["old_size"], case["new_size"], unhex(case["proof"])
    assert consistency_proof_from_leaves(LEAVES[:new], old) == expected
    assert consistency_proof(old, new, vector_node) == expected
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], expected)
    if expected:
        probes = _consistency_probes(old, new, expected, ROOTS[old], ROOTS[new])
        for name, probe in probes.items():
            assert not verify_consistency(*probe), name


def _flatten_plan(case: dict[str, Any]) -> list[NodeId]:
    """transparency-dev lists a folded right edge from its right end; we read left to right."""
    nodes = ids(case["ids"])
    if case["rehash"] is not None:
        begin, end = case["rehash"]
        nodes[begin:end] = reversed(nodes[begin:end])
    return nodes


@pytest.mark.parametrize(
    "case",
    VECTORS["inclusion_node_plans"]["valid"],
    ids=lambda c: f"{c['index']}of{c['size']}",
)
def test_inclusion_reads_the_published_nodes(case: dict[str, Any]) -> None:
    assert inclusion_proof_nodes(case["index"], case["size"]) == _flatten_plan(case)


@pytest.mark.parametrize(
    "case",
    VECTORS["consistency_node_plans"]["valid"],
    ids=lambda c: f"{c['old_size']}to{c['new_size']}",
)
def test_consistency_reads_the_published_nodes(case: dict[str, Any]) -> None:
    assert consistency_proof_nodes(case["old_size"], case["new_size"]) == _flatten_plan(case)


@pytest.mark.parametrize(
    "case",
    VECTORS["inclusion_node_plans"]["invalid"],
    ids=lambda c: f"{c['index']}of{c['size']}",
)
def test_inclusion_of_a_missing_leaf_is_a_programming_error(case: dict[str, Any]) -> None:
    index, size = case["index"], case["size"]
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof_nodes(index, size)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(index, size, vector_node)
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof_from_leaves(LEAVES[:size], index)


@pytest.mark.parametrize(
    "case",
    VECTORS["consistency_node_plans"]["invalid"],
    ids=lambda c: f"{c['old_size']}to{c['new_size']}",
)
def test_consistency_backwards_is_a_programming_error(case: dict[str, Any]) -> None:
    old, new = case["old_size"], case["new_size"]
    with pytest.raises(ValueError, match="0 <= old <= new"):
        consistency_proof_nodes(old, new)
    with pytest.raises(ValueError, match="0 <= old <= new"):
        consistency_proof(old, new, vector_node)
    with pytest.raises(ValueError, match="0 <= old <= new"):
        consistency_proof_from_leaves(LEAVES[:new], old)


def test_proof_builders_refuse_a_broken_node_reader() -> None:
    with pytest.raises(ValueError, match=r"32-byte hash for NodeId\(level=0, index=1\)"):
        inclusion_proof(0, 2, lambda level, index: b"\x00" * 31)
    with pytest.raises(ValueError, match="32-byte hash"):
        root_from_nodes(3, lambda level, index: "not bytes")  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="32 bytes each"):
        root([b"short"])


def test_empty_proofs_at_the_edges() -> None:
    assert consistency_proof(0, 8, vector_node) == []
    assert consistency_proof_nodes(0, 8) == []
    assert consistency_proof_from_leaves(LEAVES, 0) == []
    assert consistency_proof(8, 8, vector_node) == []
    assert root_from_nodes(0, vector_node) == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_verify_inclusion_rejects_empty_proofs_with_wrong_hashes(index: int, size: int) -> None:
    # transparency-dev/merkle TestVerifyInclusion: no combination may verify.
    assert not verify_inclusion(SOME_HASH, index, size, [], b"")
    assert not verify_inclusion(b"", index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


def test_verify_inclusion_single_leaf_tree() -> None:
    assert verify_inclusion(LEAVES[3], 0, 1, [], LEAVES[3])
    assert not verify_inclusion(LEAVES[3], 0, 1, [], LEAVES[4])
    assert not verify_inclusion(b"", 0, 1, [], b"")


GARBAGE: list[Any] = [None, -1, True, 1.0, "8", b"\x00" * 31, b"\x00" * 33, [], [b""], object()]
# Stable ids: pytest-xdist workers must collect identical test names.
GARBAGE_IDS = [f"{type(junk).__name__}-{i}" for i, junk in enumerate(GARBAGE)]


@pytest.mark.parametrize("junk", GARBAGE, ids=GARBAGE_IDS)
def test_verify_inclusion_rejects_garbage_in_every_argument(junk: Any) -> None:
    good = (LEAVES[5], 5, 8, unhex(VECTORS["inclusion_proofs"][-1]["proof"]), ROOTS[8])
    assert verify_inclusion(*good)
    for position in range(5):
        args: list[Any] = list(good)
        args[position] = junk
        assert verify_inclusion(*args) is False, position
    assert verify_inclusion(good[0], good[1], good[2], [*good[3][:-1], junk], good[4]) is False
    assert verify_inclusion(good[0], good[1], good[2], tuple(good[3]), good[4])


@pytest.mark.parametrize("junk", GARBAGE, ids=GARBAGE_IDS)
def test_verify_consistency_rejects_garbage_in_every_argument(junk: Any) -> None:
    good = (6, 8, ROOTS[6], ROOTS[8], unhex(VECTORS["consistency_proofs"][2]["proof"]))
    assert verify_consistency(*good)
    for position in range(5):
        args: list[Any] = list(good)
        args[position] = junk
        assert verify_consistency(*args) is False, position
    assert verify_consistency(*good[:4], [junk, *good[4][1:]]) is False


def test_verify_consistency_edges() -> None:
    # Equal sizes: only the empty proof, only between equal roots.
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[6], [])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[5], [ROOTS[5]])
    # The empty tree is extended by every tree, with an empty proof.
    assert verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [])
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, ROOTS[1], [])
    assert not verify_consistency(0, 8, ROOTS[1], ROOTS[8], [])
    assert not verify_consistency(0, 8, EMPTY_ROOT, ROOTS[8], [EMPTY_ROOT])
    # Time travel and missing proofs.
    assert not verify_consistency(8, 6, ROOTS[8], ROOTS[6], [])
    assert not verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])
