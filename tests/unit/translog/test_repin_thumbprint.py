"""The verifier's key thumbprint is the keystore's, so key.rotated entries match."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ed25519

from personae.crypto.keystore import jwk_thumbprint
from personae.translog.repin import ed25519_thumbprint


def test_the_verifier_names_keys_as_the_keystore_does() -> None:
    for _ in range(5):
        key = ed25519.Ed25519PrivateKey.generate().public_key()
        assert ed25519_thumbprint(key) == jwk_thumbprint(key)
