"""RFC 6238 TOTP against the RFC's own vectors, and the staff sign-in that needs it."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from tests.helpers import PASSWORD

from personae.bootstrap import Services
from personae.clock import FixedClock
from personae.domain.staff import Role
from personae.errors import NotAuthenticated
from personae.services.totp import matching_step, staff_owner, totp

# RFC 6238 Appendix B: the seeds are the ASCII digits repeated to the hash's block size.
SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("when", "sha1", "sha256", "sha512"), VECTORS)
def test_rfc6238_vectors(when: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp(SEEDS["sha1"], when, 8, "sha1") == sha1
    assert totp(SEEDS["sha256"], when, 8, "sha256") == sha256
    assert totp(SEEDS["sha512"], when, 8, "sha512") == sha512


def test_drift_window_is_one_step_either_side() -> None:
    key = SEEDS["sha1"]
    now = 1_111_111_111
    assert matching_step(key, totp(key, now - 30), now) is not None
    assert matching_step(key, totp(key, now + 30), now) is not None
    assert matching_step(key, totp(key, now - 90), now) is None
    assert matching_step(key, "12345a", now) is None


def _enrolled(services: Services) -> bytes:
    record = services.staff.create("mod.one", PASSWORD, Role.MODERATOR)
    enrolment = services.two_factor.enrol(record.id)
    return base64.b32decode(enrolment.secret_base32 + "=" * (-len(enrolment.secret_base32) % 8))


def test_staff_sign_in_needs_both_factors_and_a_fresh_code(
    services: Services, clock: FixedClock
) -> None:
    secret = _enrolled(services)
    code = totp(secret, clock.now().timestamp())
    with pytest.raises(NotAuthenticated) as wrong_password:
        services.two_factor.sign_in("mod.one", "not the password at all", code)
    with pytest.raises(NotAuthenticated) as wrong_code:
        services.two_factor.sign_in("mod.one", PASSWORD, str((int(code) + 1) % 10**6).zfill(6))
    with pytest.raises(NotAuthenticated) as unknown:
        services.two_factor.sign_in("nobody", PASSWORD, code)
    # One answer for every failure: nothing tells which factor or account was wrong.
    assert {wrong_password.value.detail, wrong_code.value.detail, unknown.value.detail} == {
        "username, password or code is wrong"
    }
    session = services.two_factor.sign_in("mod.one", PASSWORD, code)
    assert services.auth.staff(session.token).username == "mod.one"
    with pytest.raises(NotAuthenticated):  # the same code never works twice
        services.two_factor.sign_in("mod.one", PASSWORD, code)
    clock.advance(timedelta(seconds=30))
    services.two_factor.sign_in("mod.one", PASSWORD, totp(secret, clock.now().timestamp()))


def test_unenrolled_staff_cannot_sign_in(services: Services, clock: FixedClock) -> None:
    services.staff.create("legal.one", PASSWORD, Role.LEGAL_OFFICER)
    with pytest.raises(NotAuthenticated):
        services.two_factor.sign_in("legal.one", PASSWORD, "000000")


def test_the_secret_is_sealed_not_stored_in_clear(services: Services) -> None:
    secret = _enrolled(services)
    with services.ctx.uow(write=False) as uow:
        member = uow.staff.by_username("mod.one")
        assert member is not None
        stored = uow.staff_totp.get(member.id)
    assert stored is not None
    assert secret not in stored.sealed_secret and secret.hex().encode() not in stored.sealed_secret
    opened = services.ctx.vault.open(staff_owner(member.id), {"totp": stored.sealed_secret})
    assert bytes.fromhex(opened["totp"]) == secret
