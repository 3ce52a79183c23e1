"""seat numbers in a group session

Revision ID: 0006_seats
Revises: 0005_planned_at

A focus group of 8-9 sits around a table: ``sessionparticipant.seat`` is the seat number
(1-9) the researcher sees in the roster during the session and types after a tag or note
key to say which participant the event is about.
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_seats'
down_revision = '0005_planned_at'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessionparticipant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seat', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessionparticipant', schema=None) as batch_op:
        batch_op.drop_column('seat')
