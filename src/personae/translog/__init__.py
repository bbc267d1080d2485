"""The transparency log: RFC 9162 Merkle hashing and proofs, signed checkpoints."""
