"""user text by one rule (fieldkit.text.clean_text)

Revision ID: 0007_i29_clean_text
Revises: 0007_i21_results_pair_kind

Text stored by older versions may hold what fieldkit now cleans on the way in: control
characters (a NUL byte stopped every sync; Word's manual line break stopped the exports),
other line breaks than ``\\n``, lone surrogates, text not in normal form C. This revision
applies the rule to every user-text column (strings and JSON) already stored. A changed
row gets a new ``updated_at``, so that the next sync or pack carries the cleaned version
to the team. No schema change; nothing to undo (the rule only removes what could not be
exported or synced, and puts line breaks and composed characters in one form).
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_i29_clean_text'
down_revision = '0007_i21_results_pair_kind'
branch_labels = None
depends_on = None

#: bookkeeping tables without user text
_SKIP_TABLES = {"alembic_version", "syncbase", "recordstate", "serveraudio"}


def upgrade() -> None:
    from datetime import datetime, timezone

    from sqlmodel import SQLModel

    import fieldkit.store.models as m
    from fieldkit.text import clean_value

    bind = op.get_bind()
    insp = sa.inspect(bind)
    present = set(insp.get_table_names())
    now = datetime.now(timezone.utc)
    for tbl in SQLModel.metadata.sorted_tables:
        if tbl.name in _SKIP_TABLES or tbl.name not in present:
            continue
        there = {c["name"] for c in insp.get_columns(tbl.name)}
        cols = [c for c in m.text_columns(tbl) if c in there]
        keys = [c.name for c in tbl.primary_key.columns]
        if not cols or not set(keys) <= there:
            continue
        stamp = "updated_at" in there and "updated_at" in tbl.c
        select = sa.select(*[tbl.c[k] for k in keys], *[tbl.c[c] for c in cols])
        changes = []
        for row in bind.execute(select):
            values = row._mapping
            new = {}
            for c in cols:
                v = values[c]
                cleaned = clean_value(v)
                if cleaned != v:
                    new[c] = cleaned
            if new:
                if stamp:
                    new["updated_at"] = now
                changes.append(({k: values[k] for k in keys}, new))
        for key, new in changes:
            bind.execute(tbl.update().where(*[tbl.c[k] == v for k, v in key.items()]).values(new))


def downgrade() -> None:
    pass
