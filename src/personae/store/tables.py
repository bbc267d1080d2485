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

door_nonces = Table(
    "door_nonces",
    metadata,
    Column("nonce_hash", LargeBinary(32), primary_key=True),
    Column("world_id", String(40), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("used_at", UTCDateTime, nullable=True),
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
