"""speaker attribution: the cluster a segment was attributed to, and whether a
researcher assigned its speaker by hand

Revision ID: 0004_speakers
Revises: 0003_sync

"""

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004_speakers'
down_revision = '0003_sync'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transcriptsegment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('speaker_auto', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('speaker_manual', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('transcriptsegment', schema=None) as batch_op:
        batch_op.drop_column('speaker_manual')
        batch_op.drop_column('speaker_auto')
