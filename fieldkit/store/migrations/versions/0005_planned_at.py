"""planned date and time of a session

Revision ID: 0005_planned_at
Revises: 0004_speakers

A plan has a date and time (``session.planned_at``), kept apart from ``starts_at``
(when the interview actually began: notes-only sessions time their notes from it).
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005_planned_at'
down_revision = '0004_speakers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('session', schema=None) as batch_op:
        batch_op.drop_column('planned_at')
