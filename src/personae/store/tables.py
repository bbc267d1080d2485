"""The relational schema (SQLAlchemy Core tables), shared by SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        raise TypeError("unexpected datetime value from the database")


# Integer autoincrement keys that are 64-bit on PostgreSQL and ROWID on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# -- persons (person-owned rows carry person_id, the distribution key) -------

persons = Table(
    "persons",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("handle_hash", LargeBinary(32), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("assurance", String(8), nullable=False),
    Column("evidence", String(32), nullable=False),
    Column("status", String(16), nullable=False, default="active"),
    Column("created_at", UTCDateTime, nullable=False),
)

# Keyed hash of the evidence subject (issuer ‖ subject id): refuses a second
# registration with the same evidence without storing the subject in clear.
evidence_bindings = Table(
    "evidence_bindings",
    metadata,
    Column("evidence_hash", LargeBinary(32), primary_key=True),
    Column("person_id", String(32), ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

person_attributes = Table(
    "person_attributes",
    metadata,
    Column("person_id", String(32), ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
    Column("evidence", String(32), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("principal_kind", String(8), nullable=False),
    Column("principal_id", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_sessions_principal", "principal_kind", "principal_id"),
)

# -- staff and worlds ---------------------------------------------------------

staff = Table(
    "staff",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(24), nullable=False),
    Column("world_id", String(40), ForeignKey("worlds.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

worlds = Table(
    "worlds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("contact", String(200), nullable=False),
    Column("purposes", JSON, nullable=False),
    Column("api_key_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# -- personas: keyed by the pseudonym; no column links them to a person --------

personas = Table(
    "personas",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("world_id", String(40), ForeignKey("worlds.id"), nullable=False, index=True),
    Column("escrow", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column(
        "persona_id", String(32), ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("item", String(80), primary_key=True),
    Column("granted_at", UTCDateTime, nullable=False),
    Column("withdrawn_at", UTCDateTime, nullable=True),
)

# The persona's own sealed copy of the attributes its consents need, under the
# persona's data key: a world's request is answered without any link to the person.
persona_values = Table(
    "persona_values",
    metadata,
    Column(
        "persona_id", String(32), ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("attribute", String(64), primary_key=True),
    Column("sealed", LargeBinary, nullable=False),
    # No row id on SQLite: rows in key (pseudonym) order, nothing that records which
    # were written together (migration registry1).
    sqlite_with_rowid=False,
)

disclosures = Table(
    "disclosures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("persona_id", String(32), nullable=False),
    Column("world_id", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("items", JSON, nullable=False),
    Index("ix_disclosures_persona_at", "persona_id", "at"),
)

# -- accountability outbox (drained by the transparency log sequencer) ---------

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("type", String(48), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("sequenced", Boolean, nullable=False, default=False),
    Index("ix_outbox_pending", "sequenced", "id"),
)

# -- world passes: status lists, issued passes, door-check nonces -----------------

# One list per world, so a world's fetch shows only its own passes' bits; indexes
# are drawn at random from the free ones (``allocated``), so neighbouring indexes
# say nothing about when or to whom passes were issued.
status_lists = Table(
    "status_lists",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("world_id", String(40), ForeignKey("worlds.id"), nullable=False, index=True),
    Column("capacity", Integer, nullable=False),
    Column("used", Integer, nullable=False),
    Column("allocated", LargeBinary, nullable=False),
    Column("bits", LargeBinary, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

world_pass_settings = Table(
    "world_pass_settings",
    metadata,
    Column("world_id", String(40), ForeignKey("worlds.id"), primary_key=True),
    Column("pass_ttl_seconds", Integer, nullable=False),
)

passes = Table(
    "passes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column(
        "persona_id",
        String(32),
        ForeignKey("personas.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("world_id", String(40), nullable=False),
    Column("status_list_id", String(40), ForeignKey("status_lists.id"), nullable=False),
    Column("status_index", Integer, nullable=False),
    Column("holder_kid", String(64), nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", String(16), nullable=True),
)

# Each pass signing key and the latest expiry of a pass it signed: the issuer publishes
# a retired key until then, and no longer.
pass_signing_keys = Table(
    "pass_signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("last_expires_at", UTCDateTime, nullable=False),
    # Set for a key rotated in to sign only from then (published ahead); None: at once.
    Column("signs_from", UTCDateTime, nullable=True),
)

door_nonces = Table(
    "door_nonces",
    metadata,
    Column("nonce_hash", LargeBinary(32), primary_key=True),
    Column("world_id", String(40), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("used_at", UTCDateTime, nullable=True),
)

# Which keystore this database belongs to: a keyed hash made with the keystore's lookup
# secret (it reveals nothing of the key). One row.
keystore_binding = Table(
    "keystore_binding",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fingerprint", LargeBinary(32), nullable=False),
)

# -- a person's inbox -------------------------------------------------------------

# Addressed to a vault owner ("person:<id>" or "persona:<id>"); the body is sealed
# under that owner's data key, so erasing the owner erases the notices too.
notices = Table(
    "notices",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("owner", String(80), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deliver_after", UTCDateTime, nullable=True),
    Column("read_at", UTCDateTime, nullable=True),
    Column("outbox_event_id", BigId, nullable=True),
    Index("ix_notices_owner_created", "owner", "created_at"),
)

# -- moderation: policies, reports, cases, decisions, sanctions, strikes, appeals ----

policies = Table(
    "policies",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("scope", String(40), nullable=False),  # a world id, or "platform"
    Column("version", Integer, nullable=False),
    Column("clauses", JSON, nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("published_by", String(64), nullable=False),
    Index("ix_policies_scope_version", "scope", "version", unique=True),
)

# ``reporter`` is the reporter's own address ("person:<id>" or "world:<id>"): a
# reporter's record, never shown to reviewers or to the reported person.
reports = Table(
    "reports",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("world_id", String(40), nullable=False),
    Column("persona_id", String(32), nullable=False),
    Column("clause_scope", String(40), nullable=False),
    Column("clause_id", String(40), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("reporter", String(80), nullable=False, index=True),
    Column("location", String(300), nullable=False),
    Column("explanation", String(4000), nullable=False),
    Column("good_faith", Boolean, nullable=False),
    Column("credible", Boolean, nullable=False),
    Column("unfounded", Boolean, nullable=False, default=False),
    Column("received_at", UTCDateTime, nullable=False),
)

# A case leaves its queue (``queue`` NULL) once decided; ``open_key`` (persona and
# clause) is unique while the case is undecided, so reports fold into one open case.
cases = Table(
    "cases",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("world_id", String(40), nullable=False),
    Column("persona_id", String(32), nullable=False, index=True),
    Column("clause_scope", String(40), nullable=False),
    Column("clause_id", String(40), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(12), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("queue", String(40), nullable=True),
    Column("open_key", String(120), nullable=True, unique=True),
    Column("assignee", String(40), nullable=True),
    Column("report_count", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
)
# A queue is read by priority (lower is sooner), oldest first within one (keyset pages).
Index("ix_cases_queue_order", cases.c.queue, cases.c.priority, cases.c.created_at, cases.c.id)

case_notes = Table(
    "case_notes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), ForeignKey("cases.id"), nullable=False, index=True),
    Column("author", String(40), nullable=False),
    Column("visibility", String(12), nullable=False),
    Column("text", String(4000), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One decision per case (the unique case_id settles a race a second time).
decisions = Table(
    "decisions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("case_id", String(40), ForeignKey("cases.id"), nullable=False, unique=True),
    Column("world_id", String(40), nullable=False),
    Column("persona_id", String(32), nullable=False, index=True),
    Column("scope", String(12), nullable=False),
    Column("measure", String(24), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("facts", String(4000), nullable=False),
    Column("source", String(16), nullable=False),
    Column("automated", Boolean, nullable=False),
    Column("citations", JSON, nullable=False),
    Column("appeal_deadline", UTCDateTime, nullable=False),
    Column("decided_by", String(40), nullable=False),
    Column("reviewer_role", String(40), nullable=False),
    Column("reviewer_code", String(16), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("status", String(12), nullable=False),
    Column("outbox_event_id", BigId, nullable=True),
)

# A sanction in force on one persona. It names its decision only through a keyed
# hash of (decision, persona): a platform-scope decision's sanctions on a person's
# several personas share no column that would link them.
sanctions = Table(
    "sanctions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("persona_id", String(32), nullable=False, index=True),
    Column("world_id", String(40), nullable=False),
    Column("decision_ref", LargeBinary(32), nullable=False, index=True),
    Column("measure", String(24), nullable=False),
    Column("blocks_passes", Boolean, nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("lifted_at", UTCDateTime, nullable=True),
    # Part of a platform-scope decision: the person may not open a persona elsewhere
    # while it runs (a flag only: nothing here names the decision or the other personas).
    Column("platform", Boolean, nullable=False, server_default=false()),
)

# The passes a sanction revoked, so that a reversal restores exactly those.
sanction_passes = Table(
    "sanction_passes",
    metadata,
    Column("sanction_id", String(40), ForeignKey("sanctions.id"), primary_key=True),
    Column("pass_id", String(40), primary_key=True),
)

strikes = Table(
    "strikes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("persona_id", String(32), nullable=False),
    Column("world_id", String(40), nullable=False),
    Column("decision_id", String(40), ForeignKey("decisions.id"), nullable=False, unique=True),
    Column("severity", String(8), nullable=False),
    Column("weight", Integer, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime, nullable=True),
    Index("ix_strikes_persona_world", "persona_id", "world_id"),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("decision_id", String(40), ForeignKey("decisions.id"), nullable=False, unique=True),
    Column("statement", String(4000), nullable=False),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("status", String(12), nullable=False),
    Column("outcome", String(12), nullable=True),
    Column("reasons", String(4000), nullable=True),
    Column("modified_measure", String(24), nullable=True),
    Column("modified_ends_at", UTCDateTime, nullable=True),
    Column("handled_by", String(40), nullable=True),
    Column("reviewer_code", String(16), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("outbox_event_id", BigId, nullable=True),
)

# Manifestly unfounded reports per reporter address (DSA Art. 23(2)).
reporters = Table(
    "reporters",
    metadata,
    Column("reporter", String(80), primary_key=True),
    Column("unfounded", Integer, nullable=False),
    Column("warned_at", UTCDateTime, nullable=True),
    Column("deprioritised_until", UTCDateTime, nullable=True),
)

# The person's assurance level as last confirmed for a persona, by the person.
standing_assurance = Table(
    "standing_assurance",
    metadata,
    Column(
        "persona_id", String(32), ForeignKey("personas.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("assurance", String(8), nullable=False),
    # No time: a person's personas are confirmed at once, and a shared time links them.
)

# -- lawful access, legal holds, erasure (issue #6) ------------------------------

# An authority's request as received and decided. It names the persona the
# authority named; it never holds the person behind it.
lawful_requests = Table(
    "lawful_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("authority", String(200), nullable=False),
    Column("authority_verification", String(500), nullable=False),
    Column("jurisdiction", String(2), nullable=False),
    Column("process_type", String(32), nullable=False),
    Column("document_ref", String(200), nullable=False),
    Column("document_sha256", String(64), nullable=False),
    Column("target_world_id", String(40), nullable=False),
    Column("target_persona_id", String(32), nullable=False),
    Column("target_scope", String(8), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("range_start", UTCDateTime, nullable=False),
    Column("range_end", UTCDateTime, nullable=False),
    Column("nondisclosure_until", UTCDateTime, nullable=True),
    Column("deadline", UTCDateTime, nullable=False),
    Column("justification", String(4000), nullable=True),
    Column("status", String(16), nullable=False),
    Column("intake_by", String(40), nullable=False),
    Column("intake_at", UTCDateTime, nullable=False),
    Column("decided_by", String(40), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("approved_categories", JSON, nullable=True),
    Column("decision_reason", String(2000), nullable=True),
    Column("executed_by", String(40), nullable=True),
    Column("executed_at", UTCDateTime, nullable=True),
    Column("review_due_at", UTCDateTime, nullable=True),
    Column("reviewed_by", String(40), nullable=True),
    Column("review_outcome", String(16), nullable=True),
    Column("review_missed", Boolean, nullable=False, default=False),
    Column("handover", String(500), nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("outcome", String(24), nullable=True),
    Column("notice_id", String(40), nullable=True),
    Column("renewals", JSON, nullable=False),
    Index("ix_lawful_requests_status", "status"),
    Index("ix_lawful_requests_closed_at", "closed_at"),
)

# The signed production package, sealed under the request's own data key
# ("lawful:<id>"), shredded with the request when its retention ends.
lawful_packages = Table(
    "lawful_packages",
    metadata,
    Column(
        "request_id",
        String(40),
        ForeignKey("lawful_requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("sealed", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("request_id", String(40), nullable=True),
    Column("basis", String(24), nullable=False),
    Column("scope", String(8), nullable=False),
    Column("world_id", String(40), nullable=False),
    Column("persona_id", String(32), nullable=False),
    Column("created_by", String(40), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("extensions", Integer, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_legal_holds_ends_at", "ends_at"),
)

# What a hold covers, as keyed hashes of vault owners ("person:<id>", "persona:<id>"):
# the store can tell a held record without a clear link between a person's personas.
hold_subjects = Table(
    "hold_subjects",
    metadata,
    Column(
        "hold_id", String(40), ForeignKey("legal_holds.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("subject_hash", LargeBinary(32), primary_key=True),
    Index("ix_hold_subjects_subject", "subject_hash"),
)

# A person's erasure request (GDPR Art. 17): due after the grace period; the row
# is the journal that lets an interrupted erasure finish, and is deleted at the end.
erasure_requests = Table(
    "erasure_requests",
    metadata,
    Column("person_id", String(32), primary_key=True),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("deferred_until", UTCDateTime, nullable=True),
    Index("ix_erasure_requests_due", "status", "due_at"),
)

# A persona kept, under a legal hold, after its person's erasure ran: erased by the
# retention sweep once no active hold covers it. Names no person and no other persona.
held_persona_erasures = Table(
    "held_persona_erasures",
    metadata,
    Column("persona_id", String(32), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# While a sanction runs, an erased person's keyed evidence hash stays, so that
# deleting and registering again cannot dodge the sanction; deleted when it ends.
sanction_guards = Table(
    "sanction_guards",
    metadata,
    Column("evidence_hash", LargeBinary(32), primary_key=True),
    Column("until", UTCDateTime, nullable=True),
)

# -- web pages (issue #7): passkeys, WebAuthn challenges, staff second factor -----

# A person's WebAuthn credentials (passkeys); the public key only, never a secret.
web_passkeys = Table(
    "web_passkeys",
    metadata,
    Column("credential_id", LargeBinary(255), primary_key=True),
    Column("person_id", String(32), ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("label", String(60), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Index("ix_web_passkeys_person_id", "person_id"),
)

# Single-use WebAuthn challenges (hashed), for a registration (with its person) or
# a sign-in (no person yet); expired ones are deleted whenever a new one is made.
web_challenges = Table(
    "web_challenges",
    metadata,
    Column("challenge_hash", LargeBinary(32), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("person_id", String(32), nullable=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_challenges_expires_at", "expires_at"),
)

# A staff member's TOTP secret, sealed under their own data key ("staff:<id>"),
# and the last time step accepted (a code is never accepted twice).
staff_totp = Table(
    "staff_totp",
    metadata,
    Column("staff_id", String(40), ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_secret", LargeBinary, nullable=False),
    Column("enrolled_at", UTCDateTime, nullable=False),
    Column("last_step", BigInteger, nullable=False),
)

# -- transparency log: RFC 9162 Merkle tree and signed checkpoints ---------------
# Written only by the sequencer, one transaction per batch (services/transparency.py).

# One row per leaf: the entry's RFC 8785 bytes, its RFC 9162 leaf hash, and the
# outbox event it records (unique: no event is ever logged twice).
log_leaves = Table(
    "log_leaves",
    metadata,
    Column("leaf_index", BigId, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("event_id", BigInteger, nullable=False, unique=True),
)

# Every complete aligned subtree: level 0 holds the leaf hashes, level k the hash of
# leaves [node_index * 2**k, (node_index + 1) * 2**k). Written once, never updated;
# a proof or a root reads its O(log n) nodes in one query.
log_nodes = Table(
    "log_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("node_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

# One signed note (C2SP checkpoint) per batch, keyed by tree size: sizes only grow.
log_checkpoints = Table(
    "log_checkpoints",
    metadata,
    Column("size", BigId, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", String, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Private, never logged: the persona an outbox event concerns, kept out of its
# payload. The sequencer writes a salted commitment into the entry instead, moves
# the persona id and the salt to log_salts, and deletes this row.
outbox_subjects = Table(
    "outbox_subjects",
    metadata,
    Column("event_id", BigId, ForeignKey("outbox_events.id", ondelete="CASCADE"), primary_key=True),
    Column("persona_id", String(32), nullable=False, index=True),
)

# Private: the salt of an entry's commitment SHA-256(salt ‖ persona_id), kept apart
# from the log and deleted with the persona's data (the commitment then names
# nobody). The person's notice carries the log index and the salt.
log_salts = Table(
    "log_salts",
    metadata,
    Column(
        "leaf_index",
        BigId,
        ForeignKey("log_leaves.leaf_index"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("persona_id", String(32), nullable=False, index=True),
    Column("salt", LargeBinary(32), nullable=False),
)
