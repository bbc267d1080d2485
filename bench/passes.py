"""World passes, side by side: issuing and door checks against their anchors.

    python bench/passes.py [--quick]

Anchors, measured in the same run on the same data:

- door check: two raw ES256 verifies with ``cryptography`` (keys already loaded,
  DER signatures ready) over the very signing inputs of the presentation, i.e. the
  issuer JWT and the KB-JWT; target ``DoorCheck.verify`` rate >= 0.8x that.
- door check: the ``sd-jwt`` reference verifier on the same presentations; target >= 3x.
- issuing: the ``sd-jwt`` reference issuer with the same 10 claims; target >= 3x.

Each figure is the best of several rounds that interleave all the timing loops,
which keeps scheduler noise and load from other processes out of the ratios.
"""

from __future__ import annotations

import argparse
import math
import timeit
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

from personae.crypto.jose import b64url_decode, public_jwk
from personae.crypto.sdjwt import issue_pass
from personae.crypto.statuslist import new_status_list
from personae.verify import DoorCheck, StaticIssuerKeys, StaticStatusLists, present

ISSUER = "https://registry.example"
STATUS_URI = f"{ISSUER}/status/1"
AUDIENCE = "https://world.example"
NONCE = "door-nonce-5f2a"
NOW = 1_760_000_000
CLAIMS = {
    "age_over_18": True,
    "age_over_21": True,
    "age_band": "25-34",
    "country": "NL",
    "languages": ["nl", "en"],
    "assurance": "IAL2",
    "occupation_major_group": "2",
    "member_since": 2021,
    "standing": "good",
    "display_name": "Wanderer",
}
DISCLOSED = ("age_over_18", "country", "languages")


def best_rates(loops: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, float]:
    """Calls per second of each loop, best of ``rounds`` rounds that interleave all loops."""
    best = dict.fromkeys(loops, math.inf)
    for _ in range(rounds):
        for name, (fn, number) in loops.items():
            best[name] = min(best[name], timeit.timeit(fn, number=number) / number)
    return {name: 1.0 / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    args = parser.parse_args()
    number, rounds = (200, 3) if args.quick else (1000, 25)

    issuer_key = ec.generate_private_key(ec.SECP256R1())
    holder_key = ec.generate_private_key(ec.SECP256R1())
    issuer_jwk, holder_jwk = JWK.from_pyca(issuer_key), JWK.from_pyca(holder_key)
    holder_public_jwk = public_jwk(holder_key)

    def ours_issue() -> object:
        return issue_pass(
            issuer_key,
            "k1",
            issuer=ISSUER,
            vct=f"{ISSUER}/vct/world-pass",
            subject="PERSONA7QX3",
            issued_at=NOW,
            expires_at=NOW + 3600,
            holder_jwk=holder_public_jwk,
            status_uri=STATUS_URI,
            status_idx=42,
            claims=CLAIMS,
            decoys=4,
        )

    def reference_issue() -> object:
        user_claims = {
            "iss": ISSUER,
            "vct": f"{ISSUER}/vct/world-pass",
            "sub": "PERSONA7QX3",
            "iat": NOW,
            "exp": NOW + 3600,
            "status": {"status_list": {"idx": 42, "uri": STATUS_URI}},
            **{SDObj(name): value for name, value in CLAIMS.items()},
        }
        return SDJWTIssuer(
            user_claims,
            issuer_jwk,
            holder_jwk,
            add_decoy_claims=True,
            extra_header_parameters={"typ": "dc+sd-jwt", "kid": "k1"},
        ).sd_jwt_issuance

    issued = issue_pass(
        issuer_key,
        "k1",
        issuer=ISSUER,
        vct=f"{ISSUER}/vct/world-pass",
        subject="PERSONA7QX3",
        issued_at=NOW,
        expires_at=NOW + 3600,
        holder_jwk=holder_public_jwk,
        status_uri=STATUS_URI,
        status_idx=42,
        claims=CLAIMS,
        decoys=4,
    )
    presentation = present(
        issued.sd_jwt, holder_key, disclose=DISCLOSED, audience=AUDIENCE, nonce=NONCE, issued_at=NOW
    )
    door = DoorCheck(
        StaticIssuerKeys(ISSUER, {"k1": issuer_key.public_key()}),
        AUDIENCE,
        StaticStatusLists({STATUS_URI: new_status_list(1 << 17)}),
    )
    assert door.verify(presentation, NONCE, NOW).claims.keys() == set(DISCLOSED)

    # The anchor: the two signature checks any door check must make, and nothing else.
    jwt = presentation.split("~")[0]
    kb_jwt = presentation.rsplit("~", 1)[1]
    checks = []
    for token, key in ((jwt, issuer_key), (kb_jwt, holder_key)):
        signing_input, _, signature = token.rpartition(".")
        raw = b64url_decode(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        checks.append((key.public_key(), der, signing_input.encode("ascii")))
    ecdsa = ec.ECDSA(hashes.SHA256())

    def raw_verifies() -> None:
        for public, der, data in checks:
            public.verify(der, data, ecdsa)

    def reference_verify() -> object:
        return SDJWTVerifier(
            presentation,
            lambda iss, header: issuer_jwk,
            expected_aud=AUDIENCE,
            expected_nonce=NONCE,
        ).get_verified_payload()

    def ours_verify() -> object:
        return door.verify(presentation, NONCE, NOW)

    assert set(DISCLOSED) <= set(reference_verify())  # type: ignore[call-overload]

    slow = max(number // 10, 20)
    rates = best_rates(
        {
            "raw": (raw_verifies, number),
            "door": (ours_verify, number),
            "reference_verify": (reference_verify, slow),
            "issue": (ours_issue, number),
            "reference_issue": (reference_issue, slow),
        },
        rounds,
    )
    print(f"presentation: {len(presentation)} bytes, {len(DISCLOSED)} of {len(CLAIMS)} disclosed")
    print(f"door check   {rates['door']:9.0f}/s")
    print(
        f"  vs 2 raw ES256 verifies {rates['raw']:9.0f}/s  ratio {rates['door'] / rates['raw']:.2f}"
        "  (target >= 0.80)"
    )
    print(
        f"  vs sd-jwt verifier      {rates['reference_verify']:9.0f}/s"
        f"  ratio {rates['door'] / rates['reference_verify']:.1f}  (target >= 3)"
    )
    print(f"issue        {rates['issue']:9.0f}/s")
    print(
        f"  vs sd-jwt issuer        {rates['reference_issue']:9.0f}/s"
        f"  ratio {rates['issue'] / rates['reference_issue']:.1f}  (target >= 3)"
    )


if __name__ == "__main__":
    main()
