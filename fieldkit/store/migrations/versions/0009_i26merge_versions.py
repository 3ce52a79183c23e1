"""record versions for merging (version vectors, ancestors), conflicts travel

Revision ID: 0009_i26merge
Revises: 0006_seats

``recordstate`` now also lives on every laptop: per record its version vector (``vv``:
how many changes each copy made), the content of this version (``data``, laptops only)
and a few earlier versions (``anc``) that a three-way merge uses as the common base.
Deleted records stay as tombstones (``deleted``) carrying their version vector.

On a laptop (SQLite) a trigger per table forgets a deleted record's content in
``recordstate`` in the same statement, so a purge leaves no copy there either.
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_i26merge'
down_revision = '0008_i23_suggest_event_kind'
branch_labels = None
depends_on = None


#: the tables that travel (their deletions clear the versions' content)
TABLES = ['auditentry', 'project', 'syncconflict', 'guide', 'informant', 'researcher',
          'tagscheme', 'guideversion', 'tagcode', 'session', 'event', 'recording',
          'sessionparticipant', 'recordingfile', 'recordingpause', 'transcriptionrun',
          'transcriptsegment']


def upgrade() -> None:
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vv', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('anc', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        for t in TABLES:
            op.execute(f"CREATE TRIGGER forget_{t} AFTER DELETE ON {t} BEGIN "
                       f"UPDATE recordstate SET data = NULL, anc = '[]' "
                       f"WHERE record_id = OLD.id; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for t in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS forget_{t}")
    with op.batch_alter_table('recordstate', schema=None) as batch_op:
        batch_op.drop_column('data')
        batch_op.drop_column('anc')
        batch_op.drop_column('vv')
