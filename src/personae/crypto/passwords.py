"""Password hashing with argon2id (argon2-cffi); the cost parameters come from settings."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHashing:
    """Hashes and checks passwords; verification always costs one argon2id run."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Checked against when the account does not exist, so that timing does not
        # tell a caller whether a handle is registered.
        self._decoy = self._hasher.hash("decoy password that never matches")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; with no stored hash, burns the same time and fails."""
        try:
            self._hasher.verify(stored_hash or self._decoy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return stored_hash is not None
