"""pair interview kind

Revision ID: 0007_i21_results_pair_kind
Revises: 0006_seats

``session.kind`` may be ``pair`` (a pair interview, parintervju: two informants and the
researchers, seats as in a group). SQLite stores the kind as text without a check, so
nothing changes there; on a team server (PostgreSQL) the ``sessionkind`` type gets the
value.
"""

from alembic import op


revision = '0007_i21_results_pair_kind'
down_revision = '0006_seats'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE sessionkind ADD VALUE IF NOT EXISTS 'pair'")


def downgrade() -> None:
    # PostgreSQL cannot drop a value from an enum type; a pair session must be given
    # another kind before going back, which is the researcher's choice, not the migration's
    pass
