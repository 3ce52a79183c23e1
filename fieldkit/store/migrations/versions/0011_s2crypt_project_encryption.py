"""an encrypted project's shared key description (project.encryption)

Revision ID: 0011_s2crypt
Revises: 0010_s2review_snippets

``project.encryption`` holds what the copies of an encrypted project share of its key
file: the KDF's parameters, salt and check value (nothing secret). A copy made from the
team server or a pack derives the same key from the passphrase; the team server of such
a project holds its personal fields sealed (fieldkit.team.sealing). {} for a plain project.
"""

from alembic import op
import sqlalchemy as sa


revision = '0011_s2crypt'
down_revision = '0010_s2review_snippets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ALTER TABLE ADD COLUMN (never a table rebuild: the records point at project)
    op.add_column('project', sa.Column('encryption', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_column('encryption')
