"""lawful access, legal holds, erasure

Revision ID: lawful1
Revises: 0001
Create Date: 2026-11-26 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import personae.store.tables

revision = "lawful1"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC = personae.store.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lawful_requests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("authority", sa.String(length=200), nullable=False),
        sa.Column("authority_verification", sa.String(length=500), nullable=False),
        sa.Column("jurisdiction", sa.String(length=2), nullable=False),
        sa.Column("process_type", sa.String(length=32), nullable=False),
        sa.Column("document_ref", sa.String(length=200), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("target_world_id", sa.String(length=40), nullable=False),
        sa.Column("target_persona_id", sa.String(length=32), nullable=False),
        sa.Column("target_scope", sa.String(length=8), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("range_start", UTC, nullable=False),
        sa.Column("range_end", UTC, nullable=False),
        sa.Column("nondisclosure_until", UTC, nullable=True),
        sa.Column("deadline", UTC, nullable=False),
        sa.Column("justification", sa.String(length=4000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("intake_by", sa.String(length=40), nullable=False),
        sa.Column("intake_at", UTC, nullable=False),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("approved_categories", sa.JSON(), nullable=True),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("executed_by", sa.String(length=40), nullable=True),
        sa.Column("executed_at", UTC, nullable=True),
        sa.Column("review_due_at", UTC, nullable=True),
        sa.Column("reviewed_by", sa.String(length=40), nullable=True),
        sa.Column("review_outcome", sa.String(length=16), nullable=True),
        sa.Column("review_missed", sa.Boolean(), nullable=False),
        sa.Column("handover", sa.String(length=500), nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("notice_id", sa.String(length=40), nullable=True),
        sa.Column("renewals", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lawful_requests")),
    )
    op.create_index("ix_lawful_requests_status", "lawful_requests", ["status"])
    op.create_index("ix_lawful_requests_closed_at", "lawful_requests", ["closed_at"])
    op.create_table(
        "lawful_packages",
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["lawful_requests.id"],
            name=op.f("fk_lawful_packages_request_id_lawful_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_lawful_packages")),
    )
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("basis", sa.String(length=24), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("world_id", sa.String(length=40), nullable=False),
        sa.Column("persona_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("ended_at", UTC, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    op.create_index("ix_legal_holds_ends_at", "legal_holds", ["ends_at"])
    op.create_table(
        "hold_subjects",
        sa.Column("hold_id", sa.String(length=40), nullable=False),
        sa.Column("subject_hash", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["legal_holds.id"],
            name=op.f("fk_hold_subjects_hold_id_legal_holds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hold_id", "subject_hash", name=op.f("pk_hold_subjects")),
    )
    op.create_index("ix_hold_subjects_subject", "hold_subjects", ["subject_hash"])
    op.create_table(
        "erasure_requests",
        sa.Column("person_id", sa.String(length=32), nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deferred_until", UTC, nullable=True),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_erasure_requests")),
    )
    op.create_index("ix_erasure_requests_due", "erasure_requests", ["status", "due_at"])
    op.create_table(
        "sanction_guards",
        sa.Column("evidence_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("until", UTC, nullable=True),
        sa.PrimaryKeyConstraint("evidence_hash", name=op.f("pk_sanction_guards")),
    )


def downgrade() -> None:
    op.drop_table("sanction_guards")
    op.drop_index("ix_erasure_requests_due", table_name="erasure_requests")
    op.drop_table("erasure_requests")
    op.drop_index("ix_hold_subjects_subject", table_name="hold_subjects")
    op.drop_table("hold_subjects")
    op.drop_index("ix_legal_holds_ends_at", table_name="legal_holds")
    op.drop_table("legal_holds")
    op.drop_table("lawful_packages")
    op.drop_index("ix_lawful_requests_closed_at", table_name="lawful_requests")
    op.drop_index("ix_lawful_requests_status", table_name="lawful_requests")
    op.drop_table("lawful_requests")
