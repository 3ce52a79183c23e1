"""event kind for the guide's suggestions

Revision ID: 0008_i23_suggest_event_kind
Revises: 0007_i29_clean_text

``event.kind`` may be ``suggest`` (the guide listens: a question or probe seemed asked;
a suggestion, its confirmation or dismissal, never coverage by itself). SQLite stores the
kind as text without a check (the longest kind is still 9 letters), so nothing changes
there; on a team server (PostgreSQL) the ``eventkind`` type gets the value.
"""

from alembic import op


revision = '0008_i23_suggest_event_kind'
down_revision = '0007_i29_clean_text'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE eventkind ADD VALUE IF NOT EXISTS 'suggest'")


def downgrade() -> None:
    # PostgreSQL cannot drop a value from an enum type; suggestions stay as they are
    pass
