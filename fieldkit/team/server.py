"""The PostgreSQL team server: connecting, setting a project up, who may do what.

One PostgreSQL database holds the team's projects, each in its own schema
(``fk_<project slug>``) made by the same Alembic migrations as a laptop's SQLite file.
Each project has two group roles: ``<schema>_rw`` (researchers: read and write its
records) and ``<schema>_ro`` (supervisors: read only). Nobody else has USAGE on the
schema, so nobody reads another project's data. Each researcher logs in as their own
PostgreSQL role, a member of the group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import _


class ServerError(FieldkitError):
    exit_code = ExitCode.SYNC


def schema_for(slug: str) -> str:
    """The project's schema: ``fk_<slug>``; a slug too long for PostgreSQL's 63-character
    names (with the roles' ``_rw``/``_ro``) keeps its first 46 characters and a short hash
    of the whole slug, so two projects whose names agree in their first 55 characters
    never share a schema."""
    import hashlib

    name = re.sub(r"[^a-z0-9_]", "_", slug.lower())
    if len(name) <= 55:
        return "fk_" + name
    return "fk_" + name[:46] + "_" + hashlib.sha256(slug.encode("utf-8")).hexdigest()[:8]


def public_url(url: str) -> str:
    """The address without its password (what is remembered and shown)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, parts.query, ""))


def where(url: str) -> str:
    p = urlsplit(url)
    try:
        port = p.port
    except ValueError:
        port = None
    return f"{p.hostname or 'localhost'}:{port or 5432}{p.path}"


def _check_url(url: str) -> str:
    if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        raise ServerError(_("{url!r} is not a PostgreSQL address.").format(url=url),
                          hint=_("Write it as postgresql://USER@HOST:PORT/DATABASE."))
    shown = public_url_safe(url)
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError as exc:
        text = str(exc)
        if "IPv6" in text:
            what = _("the IPv6 address is not valid (write it in brackets: [2001:db8::1])")
        elif "out of range" in text:
            what = _("the port is out of range (1-65535)")
        else:
            what = _("the port is not a number")
        raise ServerError(_("{url} is not a usable PostgreSQL address: {what}.").format(url=shown, what=what),
                          hint=_("Write it as postgresql://USER@HOST:PORT/DATABASE. Nothing "
                                 "was changed.")) from exc
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def public_url_safe(url: str) -> str:
    """The address without a password, also when it cannot be parsed."""
    try:
        return public_url(url)
    except ValueError:
        import re as _re

        return _re.sub(r"://([^:/@]*):[^@]*@", r"://\1@", url)


def engine_for(url: str, schema: str | None = None):
    """A SQLAlchemy engine on the server (psycopg 3), searching ``schema`` first."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ServerError(_("The PostgreSQL driver (psycopg) is not installed."),
                          hint=_("pip install 'psycopg[binary]'")) from exc
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    _quiet_driver_logs()
    args = {"connect_timeout": 10, "application_name": "fieldkit"}
    if schema:
        args["options"] = f"-c search_path={schema}"
    return create_engine(_check_url(url), connect_args=args, poolclass=NullPool)


def _quiet_driver_logs() -> None:
    """The driver's and the pool's own log lines (psycopg's "error ignored in rollback",
    SQLAlchemy's "Exception during reset" after a lost connection) never reach the
    researcher's terminal through Python's last-resort handler: fieldkit says what
    happened in its own words (:func:`explain`). A program that configures logging
    still gets them (they propagate to its handlers)."""
    import logging

    for name in ("psycopg", "sqlalchemy.pool"):
        log = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in log.handlers):
            log.addHandler(logging.NullHandler())


def explain(exc: BaseException, url: str, *, admin: bool = False) -> ServerError:
    """A server problem in the researcher's words."""
    text = str(getattr(exc, "orig", exc))
    low = text.lower()
    user = urlsplit(url).username or "your login"
    if "password authentication failed" in low or "no password supplied" in low \
            or ("role" in low and "does not exist" in low):
        return ServerError(_("The team server {where} refused the login for {user}.").format(where=where(url), user=user),
                           hint=_("Check the user name and password (in the address, "
                                    "$PGPASSWORD or ~/.pgpass). Nothing was changed; "
                                    "keep working and sync later."))
    if "database" in low and "does not exist" in low:
        db = urlsplit(url).path.lstrip("/") or "?"
        return ServerError(_("The team server {where} has no database {db}.").format(where=where(url), db=db),
                           hint=_("Check the database name at the end of the address (the "
                                  "administrator made it with CREATE DATABASE). Nothing was "
                                  "changed."))
    if "ssl" in low or "tls" in low or "certificate" in low or "no pg_hba.conf entry" in low:
        return ServerError(_("The team server {where} and this laptop do not agree on an "
                             "encrypted connection (TLS): {first}").format(
                                 where=where(url), first=text.strip().splitlines()[0]),
                           hint=_("Ask the administrator whether the server wants TLS "
                                  "(add ?sslmode=require to the address) or not "
                                  "(?sslmode=disable on a trusted network), and whether "
                                  "pg_hba.conf lets this login in. Nothing was changed."))
    if "permission denied" in low or "insufficientprivilege" in low:
        if admin:
            return ServerError(_("{user} may not set projects up on the team server "
                                 "{where}.").format(user=user, where=where(url)),
                               hint=_("`fieldkit server init` is for the server's "
                                      "administrator: a superuser, or a role with "
                                      "CREATEROLE that may create schemas in the "
                                      "database. Nothing was changed."))
        return ServerError(_("{user} may not change this project on the team server "
                               "{where}.").format(user=user, where=where(url)),
                           hint=_("A supervisor's login reads only. Nothing was "
                                    "changed."))
    if "connection refused" in low or "could not connect" in low or "timeout" in low \
            or "could not translate host" in low or "server closed the connection" in low \
            or "name or service not known" in low or "connection failed" in low:
        return ServerError(_("Cannot reach the team server {where}.").format(where=where(url)),
                           hint=_("Everything stays on this laptop; keep working and "
                                    "sync when the server can be reached. Nothing was "
                                    "half-done."))
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return ServerError(_("The team server {where} answered: {first}").format(where=where(url), first=first),
                       hint=_("Nothing was half-done; sync again later."))


@dataclass
class ProjectSetup:
    schema: str
    created: bool
    revision: str


def server_revision(conn, schema: str) -> str | None:
    row = conn.exec_driver_sql(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %(s)s AND table_name = 'alembic_version'",
        {"s": schema}).first()
    if row is None:
        return None
    v = conn.exec_driver_sql(f'SELECT version_num FROM "{schema}".alembic_version').first()
    return v[0] if v else None


def init_project(url: str, slug: str, *, researchers: list[str] = (), supervisors: list[str] = (),
                 audio: bool | None = None) -> ProjectSetup:
    """As the server's administrator: the project's schema at the current revision, its two
    group roles and their grants; the given login roles join them. Safe to run again (it
    also upgrades the schema after a fieldkit update)."""
    from alembic import command
    from sqlalchemy.exc import DBAPIError

    from fieldkit.store.db import _alembic_config
    from fieldkit.store.dbfile import KNOWN_REVISIONS, SCHEMA_HEAD

    schema = schema_for(slug)
    rw, ro = f"{schema}_rw", f"{schema}_ro"
    engine = engine_for(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('fieldkit-init'))")
            _adopt_legacy_schema(conn, schema, slug)
            rev = server_revision(conn, schema)
            if rev is not None and rev not in KNOWN_REVISIONS:
                raise ServerError(
                    _("The project's schema on {where} is newer ({rev}) than this "
                        "fieldkit knows.").format(where=where(url), rev=rev),
                    hint=_("Update fieldkit first. Nothing was changed."))
            if rev is not None:
                _check_identity(conn, schema, slug, url)
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.exec_driver_sql(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC')
            conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}")
            cfg = _alembic_config(conn)
            cfg.set_main_option("version_table_schema", schema)
            command.upgrade(cfg, "head")
            for role in (rw, ro):
                conn.exec_driver_sql(
                    f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
                    f'THEN CREATE ROLE "{role}" NOLOGIN; END IF; END $$')
                conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            conn.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{ro}"')
            conn.exec_driver_sql(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO "{rw}"')
            conn.exec_driver_sql(f'REVOKE INSERT, UPDATE, DELETE ON "{schema}".alembic_version FROM "{rw}"')
            for names, group in ((researchers, rw), (supervisors, ro)):
                for name in names:
                    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                        raise ServerError(_("{name!r} is not a plain role name (a-z, "
                                              "0-9, _).").format(name=name))
                    exists = conn.exec_driver_sql(
                        "SELECT 1 FROM pg_roles WHERE rolname = %(n)s", {"n": name}).first()
                    if not exists:
                        raise ServerError(_("There is no login role {name!r} on the "
                                              "server.").format(name=name),
                                          hint=_("Create it first: CREATE ROLE "
                                                   "{name} LOGIN PASSWORD '...';").format(name=name))
                    conn.exec_driver_sql(f'GRANT "{group}" TO "{name}"')
            _autovacuum_purged_tables(conn, schema)
            if audio is not None:
                set_option(conn, "audio", audio)
    except ServerError:
        raise
    except DBAPIError as exc:
        raise explain(exc, url, admin=True) from exc
    finally:
        engine.dispose()
    return ProjectSetup(schema, rev is None, SCHEMA_HEAD)


def legacy_schema_for(slug: str) -> str:
    """The name an older fieldkit gave the schema: the slug cut at 55 characters."""
    return "fk_" + re.sub(r"[^a-z0-9_]", "_", slug.lower())[:55]


def _adopt_legacy_schema(conn, schema: str, slug: str) -> None:
    """A project with a long name set up by an older fieldkit lives in the cut name's
    schema: when that schema holds this very project (its slug), rename it and its roles
    to the new name. One holding another project (the reason for the new names) or
    nothing yet is left alone."""
    from fieldkit.projects import slugify

    legacy = legacy_schema_for(slug)
    if legacy == schema or server_revision(conn, schema) is not None or server_revision(conn, legacy) is None:
        return
    row = conn.exec_driver_sql(f'SELECT slug FROM "{legacy}".project LIMIT 1').first()
    if row is None or row[0] not in (slug, slugify(slug)):
        return
    conn.exec_driver_sql(f'ALTER SCHEMA "{legacy}" RENAME TO "{schema}"')
    for suffix in ("_rw", "_ro"):
        if conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(r)s",
                                {"r": legacy + suffix}).first():
            conn.exec_driver_sql(f'ALTER ROLE "{legacy}{suffix}" RENAME TO "{schema}{suffix}"')


def _check_identity(conn, schema: str, slug: str, url: str) -> None:
    """The schema already holds a project: it must be this one (same slug)."""
    from fieldkit.projects import slugify

    row = conn.exec_driver_sql(f'SELECT slug, id FROM "{schema}".project LIMIT 1').first()
    if row is not None and row[0] not in (slug, slugify(slug)):
        raise ServerError(
            _("The schema {schema} on {where} already holds another project ({other}), "
              "not {slug}.").format(schema=schema, where=where(url), other=row[0], slug=slug),
            hint=_("Nothing was changed. Check the name; a different project is set up "
                   "under a name of its own."))


def _autovacuum_purged_tables(conn, schema: str) -> None:
    """The tables a withdrawal purge deletes from are vacuumed by the server's autovacuum
    as soon as they have any dead row (a researcher's login may not VACUUM tables it does
    not own; the sync does it itself where it may)."""
    from fieldkit.team.withdrawal import PURGE_TABLES

    for t in PURGE_TABLES:
        conn.exec_driver_sql(
            f'ALTER TABLE "{schema}"."{t}" SET (autovacuum_vacuum_threshold = 0, '
            "autovacuum_vacuum_scale_factor = 0, toast.autovacuum_vacuum_threshold = 0, "
            "toast.autovacuum_vacuum_scale_factor = 0)")


def project_identity(conn) -> tuple[str, str] | None:
    """(id, slug) of the project the server's schema holds, None while it is empty."""
    row = conn.exec_driver_sql("SELECT id, slug FROM project LIMIT 1").first()
    return (str(row[0]), row[1]) if row else None


def set_option(conn, name: str, value: object) -> None:
    """Team-wide project options live in a comment on the schema (no extra table)."""
    import json

    opts = get_options(conn)
    opts[name] = value
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
    conn.exec_driver_sql(f"COMMENT ON SCHEMA \"{schema}\" IS {_quote(json.dumps(opts))}")


def get_options(conn) -> dict:
    import json

    raw = conn.exec_driver_sql(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = current_schema()").scalar()
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return {}


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"
