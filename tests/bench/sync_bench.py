"""Team sync speed: two laptops with 250 sessions each (150 segments and 40 events per
session) syncing into one project on a throwaway PostgreSQL 15 server; then a sync with
nothing to do (goal: under 1 s), and merging the same pack twice (goal: 0 changes).
The baseline, measured in the same run, is writing a pack of the same project: reading
and serialising every record on the laptop, without any server. Prints figures.

    .venv/bin/python tests/bench/sync_bench.py [--sessions 250] [--segments 150] [--events 40] [--encrypt]

``--encrypt``: the same with an encrypted project (SQLCipher on the laptops; personal
fields, version hashes and audio sealed on the server): run it with and without to see
the encryption's cost on push, pull and pack merge.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=250, help="per laptop")
    ap.add_argument("--segments", type=int, default=150)
    ap.add_argument("--events", type=int, default=40)
    ap.add_argument("--encrypt", action="store_true", help="an encrypted project")
    args = ap.parse_args()
    pw = "bench passphrase" if args.encrypt else None
    print(f"{'encrypted' if pw else 'plain'} project")

    from sqlmodel import select

    from fieldkit.projects import Workspace
    from fieldkit.store.models import GuideVersion, Informant, Researcher, TagCode
    from fieldkit.team.ops import merge_pack
    from fieldkit.team.pack import write_pack
    from fieldkit.team.server import init_project
    from fieldkit.team.sync import clone_project, sync_project
    from tests.support import pg_server
    from tests.support.builders import build_project, generate_sessions

    server = pg_server.start()
    try:
        import psycopg

        with psycopg.connect(server.url(), autocommit=True) as conn:
            for role in ("alice", "bob"):
                conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{role}-pw'")
        init_project(server.url(), "bench", researchers=["alice", "bob"])
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            a = Workspace(tmp / "a").ensure()
            ha = a.create("bench", passphrase=pw)
            t0 = time.perf_counter()
            build_project(ha, extra_sessions=args.sessions - 3, segs=args.segments, events=args.events)
            print(f"laptop A: generated {args.sessions} sessions in {time.perf_counter() - t0:.1f} s")

            t0 = time.perf_counter()
            write_pack(ha, tmp / "baseline.fkpack")
            base = time.perf_counter() - t0
            print(f"baseline: pack of laptop A's project (read + serialise every record): {base:.1f} s")

            t0 = time.perf_counter()
            r = sync_project(ha, server.url("alice", "alice-pw"))
            ta = time.perf_counter() - t0
            print(f"A first sync (push {r.pushed} records): {ta:.1f} s  [{ta / base:.1f}x baseline]")

            b = Workspace(tmp / "b").ensure()
            t0 = time.perf_counter()
            hb = clone_project(b, "bench", server.url("bob", "bob-pw"), pw)
            r = sync_project(hb, server.url("bob", "bob-pw"))
            tb = time.perf_counter() - t0
            print(f"B first sync (pull {r.pulled.inserted} records): {tb:.1f} s  [{tb / base:.1f}x baseline]")
            with hb.db.session() as s:
                gv = s.exec(select(GuideVersion)).first().id
                codes = [c.id for c in s.exec(select(TagCode).order_by(TagCode.sort))]
                infs = [i.id for i in s.exec(select(Informant))]
                res = [x.id for x in s.exec(select(Researcher).order_by(Researcher.initials))]
            generate_sessions(hb, args.sessions, segs=args.segments, events=args.events,
                              guide_version_id=gv, codes=codes, informants=infs, researchers=res)
            t0 = time.perf_counter()
            r = sync_project(hb, server.url("bob", "bob-pw"))
            tb2 = time.perf_counter() - t0
            print(f"B sync with its own {args.sessions} sessions (push {r.pushed}): {tb2:.1f} s  "
                  f"[{tb2 / base:.1f}x baseline]")
            t0 = time.perf_counter()
            r = sync_project(ha, server.url("alice", "alice-pw"))
            ta2 = time.perf_counter() - t0
            print(f"A sync (pull {r.pulled.inserted} records): {ta2:.1f} s  [{ta2 / base:.1f}x baseline]")
            print(f"total for 2 laptops x {args.sessions} sessions into one project: "
                  f"{ta + tb + tb2 + ta2:.1f} s")
            for h, who in ((ha, "alice"), (hb, "bob")):
                t0 = time.perf_counter()
                r = sync_project(h, server.url(who, f"{who}-pw"))
                dt = time.perf_counter() - t0
                moved = r.pushed + r.pushed_deletions + r.pulled.changes
                print(f"no-op sync ({who}, {moved} changes): {dt:.2f} s  "
                      f"[{'OK' if dt < 1 else 'OVER'} the 1 s goal]")

            # a withdrawal: A purges L01 and pushes it; B applies it before pushing anything
            from fieldkit.privacy.purge import execute_purge, plan_informant_purge

            t0 = time.perf_counter()
            execute_purge(ha, plan_informant_purge(ha, "L01"))
            print(f"A purges L01 locally: {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            r = sync_project(ha, server.url("alice", "alice-pw"))
            print(f"A sync pushing the withdrawal ({r.pushed_deletions} deletions, vacuumed by this "
                  f"login: {r.vacuumed}): {time.perf_counter() - t0:.1f} s")
            t0 = time.perf_counter()
            r = sync_project(hb, server.url("bob", "bob-pw"))
            print(f"B sync applying it before its push ({r.pulled.purged_informants}, pushed "
                  f"{r.pushed}): {time.perf_counter() - t0:.1f} s")
            for h, who in ((ha, "alice"), (hb, "bob")):
                t0 = time.perf_counter()
                r = sync_project(h, server.url(who, f"{who}-pw"))
                dt = time.perf_counter() - t0
                moved = r.pushed + r.pushed_deletions + r.pulled.changes
                print(f"no-op sync after the withdrawal ({who}, {moved} changes): {dt:.2f} s  "
                      f"[{'OK' if dt < 1 else 'OVER'} the 1 s goal]")

            write_pack(ha, tmp / "full.fkpack")
            c = Workspace(tmp / "c").ensure()
            for i in (1, 2):
                t0 = time.perf_counter()
                res_ = merge_pack(c, tmp / "full.fkpack", passphrase=pw)
                print(f"merge of the same pack, time {i}: {time.perf_counter() - t0:.1f} s, "
                      f"{res_.outcome.changes} changes ({res_.outcome.summary()})")
            ha.close()
            hb.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
