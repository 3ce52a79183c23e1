"""Working as a team: packs carried between laptops, and sync through a PostgreSQL team
server. Core code: no Textual here."""
