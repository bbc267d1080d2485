"""World passes: issuing SD-JWT VCs to personas, revoking them, issuer keys and status lists."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from personae.config import Settings
from personae.crypto import keystore, statuslist, tokens
from personae.crypto.jose import JoseError, load_public_jwk, public_jwk
from personae.crypto.keystore import SigningKey, jwk_thumbprint
from personae.crypto.sdjwt import issue_pass
from personae.errors import (
    FieldError,
    InvalidInput,
    NotFound,
    SanctionInForce,
)
from personae.services.auth import PersonPrincipal
from personae.services.context import ServiceContext
from personae.services.personas import derive_items, owned_persona
from personae.store.records import PassRecord, StatusListRecord
from personae.store.uow import UnitOfWork
from personae.verify import StaticIssuerKeys

STATUS_LIST_CAPACITY = 1 << 16  # 8 KiB of bits per list, a few hundred bytes compressed
# A list is closed once this full, so drawing a random free index stays cheap.
STATUS_LIST_FILL = int(STATUS_LIST_CAPACITY * 0.75)
SIGNING_PURPOSE = "pass"
HOLDER = "person"
"""Who revoked a pass its holder revoked (``passes.revoked_by``); never undone."""
# Digests are padded to a multiple of this, so a pass does not tell how many claims it hides.
DIGEST_PADDING = 8
# A retired key is published this long after its last pass expires: doors allow some
# clock skew past ``exp``.
RETIRED_KEY_GRACE = timedelta(minutes=5)
# How long a process keeps the set of published keys before it looks again, and how
# often at most a door meeting an unknown key id makes it look sooner.
KEY_SET_RECHECK_SECONDS = 60.0
KEY_REFRESH_MIN_SECONDS = 5.0
#: How long past its recheck a key set may still be used while one caller looks it up.
KEY_STALE_MAX_SECONDS = 2 * KEY_REFRESH_MIN_SECONDS


def _hour_after(moment: datetime) -> datetime:
    """The first whole hour after ``moment`` (a key record's rounding)."""
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


@dataclass(frozen=True)
class IssuedPassView:
    pass_id: str
    persona_id: str
    world_id: str
    sd_jwt: str
    claims: list[str]
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class PassKeyRotation:
    """A pass key rotated in: it signs from ``signs_from``, published from now on; the key
    it replaces stays published at least until ``old_published_until``."""

    new: SigningKey
    signs_from: datetime
    old_kid: str
    old_published_until: datetime


@dataclass(frozen=True)
class PassView:
    pass_id: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def _draw_free_index(allocated: bytearray, capacity: int) -> int:
    """A random unallocated index: indexes carry no order of issuance."""
    while True:
        idx = secrets.randbelow(capacity)
        if not statuslist.get_bit(allocated, idx):
            statuslist.set_bit(allocated, idx)
            return idx


class SanctionCheck(Protocol):
    """Asked before a pass is issued: why to refuse, or None. (The online door reads
    whether a blocking sanction is in force in its one statement, store/door_path.py;
    one yet to begin needs no look there, as its passes were revoked when it was applied
    and none are issued before it ends.)"""

    def refusal(self, uow: UnitOfWork, persona_id: str, now: datetime) -> str | None: ...


class PassService:
    def __init__(
        self, ctx: ServiceContext, settings: Settings, sanctions: SanctionCheck | None = None
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.sanctions = sanctions
        self.issuer = settings.issuer_url.rstrip("/")
        self._status_list_prefix = f"{self.issuer}/v1/status-lists/"
        self._status_cache: dict[str, tuple[tuple[bytes, str], str, datetime]] = {}
        self._recorded: dict[str, datetime] = {}
        self._issuer_keys: tuple[frozenset[str], StaticIssuerKeys, float] | None = None
        self._active_kid = ""
        # When keys rotated in ahead start to sign (kid -> time), and until when (on the
        # monotonic clock) that is known; the keys newest first, for the newest kid.
        self._signing_starts: tuple[float, str, dict[str, datetime]] = (0.0, "", {})
        self._keys_by_age: tuple[str, list[SigningKey]] = ("", [])
        self._next_refresh = 0.0
        self._lookup_claimed_until = 0.0
        self._refreshing = threading.Lock()

    # -- issuer metadata and status lists -------------------------------------

    def _signing_key(self) -> SigningKey:
        """The key passes and status lists are signed with now: the newest, unless it was
        rotated in to sign only later (published ahead, so that doors know it first);
        then the newest of those whose time has come."""
        newest = self.ctx.keystore.signing_key(SIGNING_PURPOSE, self.settings.pass_alg)
        key = newest
        starts = self._starts(newest.kid)
        if newest.kid in starts:
            now = self.ctx.clock.now()
            if starts[newest.kid] > now:
                ready = (k for k in self._newest_first(newest) if starts.get(k.kid, now) <= now)
                key = next(ready, newest)
        self._active_kid = key.kid
        return key

    def _starts(self, newest_kid: str) -> dict[str, datetime]:
        """When keys rotated in ahead start to sign; looked up again every minute, and at
        once when the keystore's newest key is not the one they were read with (a
        rotation in another process records the start before it stores the key, so it
        is there to read as soon as the key can be seen)."""
        known_until, read_with, starts = self._signing_starts
        if read_with == newest_kid and time.monotonic() < known_until:
            return starts
        with self.ctx.uow(write=False) as uow:
            starts = uow.pass_signing_keys.signing_starts()
        recheck_at = time.monotonic() + keystore.SIGNING_KEY_RECHECK_SECONDS
        self._signing_starts = (recheck_at, newest_kid, starts)
        return starts

    def _newest_first(self, newest: SigningKey) -> list[SigningKey]:
        if self._keys_by_age[0] != newest.kid:
            self._keys_by_age = (
                newest.kid,
                self.ctx.keystore.verification_keys(SIGNING_PURPOSE),
            )
        return self._keys_by_age[1]

    def issuer_metadata(self) -> dict[str, Any]:
        """`/.well-known/jwt-vc-issuer`: the issuer and every key that may verify its passes."""
        keys = [
            {**public_jwk(k.public_key), "kid": k.kid, "use": "sig"} for k in self.published_keys()
        ]
        return {"issuer": self.issuer, "jwks": {"keys": keys}}

    def published_keys(self) -> list[SigningKey]:
        """The active pass key, any rotated in to sign later, and each older one until the
        last pass it signed has expired (plus a grace for doors' clock skew); newest first.

        A key with no record yet (it signed passes before each key's last expiry was
        recorded, or none at all) gets its first record as :meth:`_record_key_use`
        makes it: covering every pass issued so far.
        """
        active = self._signing_key()  # made on first use, so there is always one
        keys = self.ctx.keystore.verification_keys(SIGNING_PURPOSE)
        with self.ctx.uow(write=False) as uow:
            last = uow.pass_signing_keys.last_expiries()
        missing = [k.kid for k in keys if k.kid not in last]
        if missing:
            for kid in missing:  # what this process remembered of them is no longer there
                self._recorded.pop(kid, None)
            now = self.ctx.clock.now()
            with self.ctx.uow() as uow:
                recorded = {kid: self._record_key_use(uow, kid, now) for kid in missing}
                last = uow.pass_signing_keys.last_expiries()
            for kid, until in recorded.items():
                self._remember_key_use(kid, until)
        retire_before = self.ctx.clock.now() - RETIRED_KEY_GRACE
        return [k for k in keys if k.kid == active.kid or last[k.kid] > retire_before]

    def rotate_signing_key(self, publish_ahead: timedelta = timedelta(0)) -> PassKeyRotation:
        """A new pass key, published at once and signing after ``publish_ahead`` (so that
        offline doors, which look the keys up now and then, know it before they meet it).

        The key signing until then stays published at least until the returned time
        (later if a process still signs with it: each looks again within a minute).
        """
        if publish_ahead < timedelta(0):
            raise ValueError("publish_ahead must not be negative")
        old = self._signing_key()
        signs_from = self.ctx.clock.now() + publish_ahead

        def schedule(kid: str) -> None:  # before any process can see the key
            if publish_ahead:
                with self.ctx.uow() as uow:
                    uow.pass_signing_keys.schedule(kid, signs_from)

        new = self.ctx.keystore.rotate_signing_key(
            SIGNING_PURPOSE, self.settings.pass_alg, before_use=schedule
        )
        self._signing_starts = (0.0, "", {})
        self._issuer_keys = None
        self.published_keys()  # records any key without a record, as the metadata would
        with self.ctx.uow(write=False) as uow:
            until = uow.pass_signing_keys.last_expiries()[old.kid]
        return PassKeyRotation(new, signs_from, old.kid, until + RETIRED_KEY_GRACE)

    def _record_key_use(self, uow: UnitOfWork, kid: str, valid_until: datetime) -> datetime | None:
        """Keep ``kid`` published until at least ``valid_until`` (a pass or status list it
        signed expires then), in the caller's transaction; what to pass to
        :meth:`_remember_key_use` once it commits, or None if nothing was needed.

        Rounded up to the hour and remembered, so a process writes the shared row about
        once an hour per key, not once per pass. The first record of a key also covers
        every pass issued so far: it may have signed some before keys were recorded.
        """
        until = _hour_after(valid_until)
        if self._key_use_covered(kid, until):
            return None
        known = uow.pass_signing_keys.last_expiry(kid)
        if known is None:
            latest = uow.passes.latest_expiry()
            until = max(until, _hour_after(latest)) if latest is not None else until
        if known is None or known < until:
            uow.pass_signing_keys.extend(kid, until)
        return until if known is None else max(known, until)

    def _key_use_covered(self, kid: str, until: datetime) -> bool:
        recorded = self._recorded.get(kid)
        return recorded is not None and recorded >= until

    def _remember_key_use(self, kid: str, recorded: datetime | None) -> None:
        # Only after the transaction that wrote it committed: a rolled-back record must
        # not stop the next pass from writing its own.
        if recorded is not None:
            self._recorded[kid] = max(recorded, self._recorded.get(kid, recorded))

    def vct_for(self, world_id: str) -> str:
        """Each world's passes have their own type, so an offline door can refuse any
        other world's pass by accepting only its own ``vct``."""
        return f"{self.issuer}/vct/world-pass/{world_id}"

    def status_list_uri(self, list_id: str) -> str:
        return f"{self._status_list_prefix}{list_id}"

    def status_list_id(self, issuer: str, uri: str) -> str | None:
        """The id of one of our status lists from a pass's reference to it, or None."""
        prefix = self._status_list_prefix
        if issuer != self.issuer or not uri.startswith(prefix):
            return None
        return uri[len(prefix) :]

    def status_list_token(self, list_id: str) -> str:
        """The signed Token Status List for one list, re-signed only when the list changed."""
        with self.ctx.uow(write=False) as uow:
            found = uow.status_lists.bits(list_id) if len(list_id) <= 40 else None
        if found is None:
            raise NotFound("no such status list")
        bits, _updated_at = found
        now = self.ctx.clock.now()
        key = self._signing_key()
        cached = self._status_cache.get(list_id)
        # Keyed on the bits themselves (8 KiB to compare), not on when they changed: two
        # writes can carry the same time, and a revocation must show in the next token.
        if cached and cached[0] == (bits, key.kid) and cached[2] > now:
            return cached[1]
        ttl = self.settings.status_list_ttl_seconds
        expires = now + timedelta(seconds=max(ttl * 10, 3600))
        if not self._key_use_covered(key.kid, _hour_after(expires)):
            with self.ctx.uow() as uow:  # doors verify the token with this key until it expires
                recorded = self._record_key_use(uow, key.kid, expires)
            self._remember_key_use(key.kid, recorded)
        token = statuslist.status_list_token(
            key.private_key,
            key.kid,
            uri=self.status_list_uri(list_id),
            data=bits,
            issued_at=now,
            expires_at=expires,
            ttl=ttl,
            issuer=self.issuer,
        )
        # Serve the same token until the list changes or half its life has gone.
        self._status_cache[list_id] = ((bits, key.kid), token, now + (expires - now) / 2)
        return token

    def _allocate(self, uow: UnitOfWork, world_id: str, now: datetime) -> tuple[str, int]:
        current = uow.status_lists.open_for(world_id, STATUS_LIST_FILL)
        if current is None:
            current = StatusListRecord(
                tokens.new_id("sl_"),
                world_id,
                STATUS_LIST_CAPACITY,
                0,
                bytes(statuslist.new_status_list(STATUS_LIST_CAPACITY)),
                bytes(statuslist.new_status_list(STATUS_LIST_CAPACITY)),
            )
            uow.status_lists.add(current, now)
        allocated = bytearray(current.allocated)
        idx = _draw_free_index(allocated, current.capacity)
        uow.status_lists.save(
            StatusListRecord(
                current.id,
                world_id,
                current.capacity,
                current.used + 1,
                bytes(allocated),
                current.bits,
            ),
            now,
        )
        return current.id, idx

    def set_revoked(self, uow: UnitOfWork, record: PassRecord, now: datetime, by: str) -> bool:
        """Revoke one pass: the status bit is set in the same transaction as the row."""
        if not uow.passes.mark_revoked(record.id, now, by):
            return False
        self._write_status(uow, record, now, revoked=True)
        return True

    def set_revoked_for_good(
        self, uow: UnitOfWork, record: PassRecord, now: datetime, by: str
    ) -> None:
        """Revoke one pass as ``by`` whoever revoked it before (the holder, an erasure), so
        that lifting an earlier sanction cannot bring it back. One statement, and the bit
        set whatever the row said, so that a lift committing meanwhile cannot leave the
        pass valid."""
        uow.passes.mark_revoked_for_good(record.id, now, by)
        self._write_status(uow, record, now, revoked=True)

    def set_restored(self, uow: UnitOfWork, record: PassRecord, now: datetime, by: str) -> bool:
        """Undo a revocation made by ``by`` (a lifted sanction): row and status bit together.

        A pass its holder revoked, or that ``by`` did not revoke, stays revoked.
        """
        if not uow.moderation.sanctions.unrevoke_pass(record.id, by):
            return False
        self._write_status(uow, record, now, revoked=False)
        return True

    def _write_status(
        self, uow: UnitOfWork, record: PassRecord, now: datetime, *, revoked: bool
    ) -> None:
        current = uow.status_lists.get(record.status_list_id, lock=True)
        if current is None:
            raise NotFound("status list missing")
        bits = bytearray(current.bits)
        (statuslist.set_bit if revoked else statuslist.clear_bit)(bits, record.status_index)
        uow.status_lists.save(
            StatusListRecord(
                current.id,
                current.world_id,
                current.capacity,
                current.used,
                current.allocated,
                bytes(bits),
            ),
            now,
        )

    def _refusal(self, uow: UnitOfWork, persona_id: str, now: datetime) -> str | None:
        return None if self.sanctions is None else self.sanctions.refusal(uow, persona_id, now)

    # -- a person's passes ---------------------------------------------------

    def issue(
        self, who: PersonPrincipal, persona_id: str, holder_jwk: dict[str, Any]
    ) -> IssuedPassView:
        """A pass for one of the person's personas, bound to the holder's public key.

        Its disclosable claims are exactly the persona's consented items, derived now
        from the sealed values; nothing the person did not consent to can be in it.
        """
        try:
            holder_key = load_public_jwk(holder_jwk)
        except JoseError as exc:
            raise InvalidInput(
                f"holder key is not a usable public JWK: {exc}",
                [FieldError(("holder_jwk",), "a public P-256 or Ed25519 JWK")],
            ) from None
        holder = public_jwk(holder_key)  # only the public members, in canonical form
        now = self.ctx.clock.now()
        key = self._signing_key()  # may look the keys up: before this unit of work
        with self.ctx.uow() as uow:
            persona = owned_persona(self.ctx, uow, who.person_id, persona_id)
            uow.personas.lock([persona.id])  # a sanction being applied is seen, or sees this
            refusal = self._refusal(uow, persona.id, now)
            if refusal is not None:
                raise SanctionInForce(refusal)
            claims, _withheld = derive_items(self.ctx, uow, persona.id, now.date())
            ttl = uow.pass_settings.ttl(persona.world_id) or self.settings.pass_ttl_seconds
            expires = now + timedelta(seconds=ttl)
            list_id, idx = self._allocate(uow, persona.world_id, now)
            issued = issue_pass(
                key.private_key,
                key.kid,
                issuer=self.issuer,
                vct=self.vct_for(persona.world_id),
                subject=persona.id,
                issued_at=now,
                expires_at=expires,
                holder_jwk=holder,
                status_uri=self.status_list_uri(list_id),
                status_idx=idx,
                claims=claims,
                decoys=(-len(claims)) % DIGEST_PADDING or DIGEST_PADDING,
            )
            recorded = self._record_key_use(uow, key.kid, expires)
            record = PassRecord(
                tokens.new_id("pass_"),
                persona.id,
                persona.world_id,
                list_id,
                idx,
                jwk_thumbprint(holder_key),
                now,
                expires,
                None,
                None,
            )
            uow.passes.add(record)
        self._remember_key_use(key.kid, recorded)
        return IssuedPassView(
            record.id, persona.id, persona.world_id, issued.sd_jwt, sorted(claims), now, expires
        )

    def passes(self, who: PersonPrincipal, persona_id: str) -> list[PassView]:
        with self.ctx.uow(write=False) as uow:
            owned_persona(self.ctx, uow, who.person_id, persona_id)
            return [
                PassView(p.id, p.issued_at, p.expires_at, p.revoked_at)
                for p in uow.passes.for_persona(persona_id)
            ]

    def revoke(self, who: PersonPrincipal, persona_id: str, pass_id: str) -> None:
        """The person revokes one of their passes (idempotent)."""
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            owned_persona(self.ctx, uow, who.person_id, persona_id)
            record = uow.passes.get(pass_id) if len(pass_id) <= 40 else None
            if record is None or record.persona_id != persona_id:
                raise NotFound("no such pass")
            # The holder's word is final, even over a pass moderation revoked first.
            self.set_revoked_for_good(uow, record, now, HOLDER)

    def trusted_keys_now(self) -> StaticIssuerKeys | None:
        """:meth:`trusted_keys` if known without any I/O, else None.

        Once the set is due to be looked up again, one caller in every few seconds
        gets None (and looks it up with :meth:`trusted_keys`); the others keep using
        the set meanwhile, rather than all turning to I/O at once, but for no longer
        than ``KEY_STALE_MAX_SECONDS``: if the lookups keep failing, every caller gets
        None (and fails with them) rather than trust an old set indefinitely.
        """
        fresh = self._fresh_keys()
        if fresh is not None:
            return fresh
        cached = self._issuer_keys
        if cached is None or self._active_kid not in cached[0]:
            return None
        now = time.monotonic()
        if now >= self._lookup_claimed_until or now > cached[2] + KEY_STALE_MAX_SECONDS:
            self._lookup_claimed_until = now + KEY_REFRESH_MIN_SECONDS
            return None
        return cached[1]

    def _fresh_keys(self) -> StaticIssuerKeys | None:
        cached = self._issuer_keys
        # The key this process last signed with is always among them.
        if cached is not None and cached[2] > time.monotonic() and self._active_kid in cached[0]:
            return cached[1]
        return None

    def refreshed_keys(self) -> StaticIssuerKeys | None:
        """The published keys looked up now, if they changed since last time; None when
        unchanged, or when the last such lookup was under ``KEY_REFRESH_MIN_SECONDS`` ago
        (for a door that meets a ``kid`` it does not know)."""
        if not self.may_refresh_keys() or not self._refreshing.acquire(blocking=False):
            return None
        try:
            self._next_refresh = time.monotonic() + KEY_REFRESH_MIN_SECONDS
            before = self._issuer_keys
            if before is not None:  # stale, but kept: an unchanged set stays the same object
                self._issuer_keys = (before[0], before[1], 0.0)
            keys = self.trusted_keys()
            return None if before is not None and keys is before[1] else keys
        finally:
            self._refreshing.release()

    def may_refresh_keys(self) -> bool:
        """Whether :meth:`refreshed_keys` would look now (it looks at most every few seconds)."""
        return time.monotonic() >= self._next_refresh

    def trusted_keys(self) -> StaticIssuerKeys:
        """The published pass keys, parsed; looked up again at most every
        ``KEY_SET_RECHECK_SECONDS``, and the same object until the set changes, so a
        door built on it can be kept."""
        known = self._fresh_keys()
        if known is not None:
            return known
        keys = self.published_keys()
        kids = frozenset(k.kid for k in keys)
        cached = self._issuer_keys
        if cached is None or cached[0] != kids:
            trusted = StaticIssuerKeys(self.issuer, {k.kid: k.public_key for k in keys})
        else:
            trusted = cached[1]
        self._issuer_keys = (kids, trusted, time.monotonic() + KEY_SET_RECHECK_SECONDS)
        return trusted
