"""Passkeys for persons (WebAuthn, via the ``webauthn`` package): register, list, remove, sign in.

Challenges are single use: each is stored (hashed) with its purpose, and the
person it was made for, and deleted when a response names it. Credentials are
discoverable, so signing in needs no handle; the user handle the authenticator
keeps is a keyed hash of the person id, so it reveals nothing. Any failure to
sign in gets the same answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from personae.errors import FieldError, InvalidInput, NotAuthenticated, NotFound
from personae.services.auth import IssuedSession, PersonPrincipal, open_session
from personae.services.context import ServiceContext
from personae.store.web_repo import PasskeyRecord

log = logging.getLogger("personae.passkeys")

CHALLENGE_SECONDS = 300
MAX_CREDENTIAL_JSON = 16 * 1024
MAX_PASSKEYS = 20
_REGISTER = "register"
_SIGN_IN = "sign_in"
_FAILED = "passkey sign-in failed"


@dataclass(frozen=True)
class PasskeyView:
    credential_id: str  # base64url
    label: str
    created_at: datetime
    last_used_at: datetime | None


def relying_party(origin: str) -> str | None:
    """The RP id for an origin: its host name, or None for an IP address (not allowed)."""
    host = urlsplit(origin).hostname or ""
    if not host or host.replace(".", "").isdigit() or ":" in host:
        return None
    return host


def _view(record: PasskeyRecord) -> PasskeyView:
    return PasskeyView(
        bytes_to_base64url(record.credential_id),
        record.label,
        record.created_at,
        record.last_used_at,
    )


def _challenge_of(credential_json: str) -> bytes:
    """The challenge the client says it signed (checked against the store, then by webauthn)."""
    if len(credential_json) > MAX_CREDENTIAL_JSON:
        raise ValueError("credential too large")
    data = json.loads(credential_json)
    client_data = base64url_to_bytes(data["response"]["clientDataJSON"])
    return parse_client_data_json(client_data).challenge


class PasskeyService:
    def __init__(self, ctx: ServiceContext, origin: str, rp_name: str = "personae") -> None:
        self.ctx = ctx
        self.origin = origin.rstrip("/")
        self.rp_id = relying_party(self.origin)
        self.rp_name = rp_name

    @property
    def available(self) -> bool:
        return self.rp_id is not None

    def _rp(self) -> str:
        if self.rp_id is None:
            raise InvalidInput("passkeys need the service to be reached by a domain name")
        return self.rp_id

    def _store_challenge(self, purpose: str, person_id: str | None) -> bytes:
        challenge = secrets.token_bytes(32)
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            uow.web_challenges.purge_expired(now)
            uow.web_challenges.add(
                hashlib.sha256(challenge).digest(),
                purpose,
                person_id,
                now + timedelta(seconds=CHALLENGE_SECONDS),
            )
        return challenge

    def _user_handle(self, person_id: str) -> bytes:
        return self.ctx.pseudonyms.lookup("webauthn-user", person_id)

    def passkeys(self, who: PersonPrincipal) -> list[PasskeyView]:
        with self.ctx.uow(write=False) as uow:
            return [_view(r) for r in uow.passkeys.for_person(who.person_id)]

    def registration_options(self, who: PersonPrincipal, label: str) -> str:
        """PublicKeyCredentialCreationOptions as JSON, for ``navigator.credentials.create``."""
        rp_id = self._rp()
        label = _label(label)
        with self.ctx.uow(write=False) as uow:
            existing = uow.passkeys.for_person(who.person_id)
        if len(existing) >= MAX_PASSKEYS:
            raise InvalidInput(
                f"at most {MAX_PASSKEYS} passkeys", [FieldError(("label",), "too many")]
            )
        challenge = self._store_challenge(_REGISTER, who.person_id)
        options = webauthn.generate_registration_options(
            rp_id=rp_id,
            rp_name=self.rp_name,
            user_name=label,
            user_id=self._user_handle(who.person_id),
            user_display_name=label,
            challenge=challenge,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                user_verification=UserVerificationRequirement.PREFERRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=r.credential_id) for r in existing
            ],
        )
        return webauthn.options_to_json(options)

    def register(self, who: PersonPrincipal, credential_json: str, label: str) -> PasskeyView:
        """Verify the authenticator's answer and keep the new credential's public key."""
        rp_id = self._rp()
        label = _label(label)
        refused = InvalidInput(
            "the passkey could not be registered", [FieldError(("credential",), "rejected")]
        )
        try:
            challenge = _challenge_of(credential_json)
        except (ValueError, KeyError, TypeError, WebAuthnException):
            raise refused from None
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            owner = uow.web_challenges.consume(hashlib.sha256(challenge).digest(), _REGISTER, now)
            if owner != who.person_id:
                raise refused
            try:
                verified = webauthn.verify_registration_response(
                    credential=credential_json,
                    expected_challenge=challenge,
                    expected_rp_id=rp_id,
                    expected_origin=self.origin,
                )
            except WebAuthnException as exc:
                log.info("passkey registration refused: %s", type(exc).__name__)
                raise refused from None
            if uow.passkeys.get(verified.credential_id) is not None:
                raise refused
            record = PasskeyRecord(
                verified.credential_id,
                who.person_id,
                verified.credential_public_key,
                verified.sign_count,
                label,
                now,
                None,
            )
            uow.passkeys.add(record)
        return _view(record)

    def remove(self, who: PersonPrincipal, credential_id: str) -> None:
        try:
            raw = base64url_to_bytes(credential_id[:400])
        except ValueError:
            raise NotFound("no such passkey") from None
        with self.ctx.uow() as uow:
            if not uow.passkeys.remove(who.person_id, raw):
                raise NotFound("no such passkey")

    def authentication_options(self) -> str:
        """PublicKeyCredentialRequestOptions as JSON, for ``navigator.credentials.get``."""
        rp_id = self._rp()
        challenge = self._store_challenge(_SIGN_IN, None)
        options = webauthn.generate_authentication_options(
            rp_id=rp_id,
            challenge=challenge,
            user_verification=UserVerificationRequirement.PREFERRED,
        )
        return webauthn.options_to_json(options)

    def sign_in(self, credential_json: str) -> IssuedSession:
        """A person session from a passkey assertion; one answer for every failure."""
        rp_id = self._rp()
        try:
            challenge = _challenge_of(credential_json)
            raw_id = base64url_to_bytes(json.loads(credential_json)["rawId"])
        except (ValueError, KeyError, TypeError, WebAuthnException):
            raise NotAuthenticated(_FAILED) from None
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            if uow.web_challenges.consume(hashlib.sha256(challenge).digest(), _SIGN_IN, now) != "":
                raise NotAuthenticated(_FAILED)
            record = uow.passkeys.get(raw_id)
            person = uow.persons.get(record.person_id) if record else None
            if record is None or person is None or person.status != "active":
                raise NotAuthenticated(_FAILED)
            try:
                verified = webauthn.verify_authentication_response(
                    credential=credential_json,
                    expected_challenge=challenge,
                    expected_rp_id=rp_id,
                    expected_origin=self.origin,
                    credential_public_key=record.public_key,
                    credential_current_sign_count=record.sign_count,
                )
            except WebAuthnException as exc:
                log.info("passkey sign-in refused: %s", type(exc).__name__)
                raise NotAuthenticated(_FAILED) from None
            uow.passkeys.used(raw_id, verified.new_sign_count, now)
            return open_session(self.ctx, uow, "person", record.person_id)


def _label(label: str) -> str:
    label = " ".join(label.split())
    if not label or len(label) > 60 or not label.isprintable():
        raise InvalidInput(
            "name the passkey in 1-60 printable characters", [FieldError(("label",), "length")]
        )
    return label
