"""How soon each terminal shows the other's keypress: the lead's and the observer's
interview screens as two app instances on one database (as `fieldkit` and
`fieldkit observe` are). Prints figures.

    .venv/bin/python tests/bench/observer_bench.py --presses 40
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


async def run(root: Path, slug: str, sid, presses: int) -> tuple[list[float], list[float]]:
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.interview import InterviewScreen

    lead_app, obs_app = FieldkitApp(data_dir=root, project=slug), FieldkitApp(data_dir=root, project=slug)
    seen = {"lead": [], "observer": []}
    async with lead_app.run_test(size=(100, 30)) as lp, obs_app.run_test(size=(100, 30)) as op:
        for app, pilot in ((lead_app, lp), (obs_app, op)):
            await pilot.pause(0.5)
            await app.workers.wait_for_complete()
        lead, obs = InterviewScreen(slug, sid, record=False), InterviewScreen(slug, sid, observer=True)
        lead_app.push_screen(lead)
        obs_app.push_screen(obs)
        await lp.pause(1.0)
        rng = random.Random(3)
        for n in range(presses):
            who, pilot, other = (("lead", lp, obs), ("observer", op, lead))[n % 2]
            before = len(other.view.events) if other.view else 0
            t0 = time.monotonic()
            await pilot.press(rng.choice("kfubh"))
            while (len(other.view.events) if other.view else 0) <= before:
                await asyncio.sleep(0.005)
            seen[who].append((time.monotonic() - t0) * 1000)
            await asyncio.sleep(rng.uniform(0.1, 0.6))
    return seen["lead"], seen["observer"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presses", type=int, default=40)
    args = ap.parse_args()
    from fieldkit.sessions.plan import SessionPlan, save_session, setup_choices
    from fieldkit.projects import Workspace
    from fieldkit.store.models import Researcher

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "data").ensure()
        with ws.create("Two terminals") as h:
            with h.db.transaction() as s:
                s.add(Researcher(project_id=h.project_id, name="Ada Lead", initials="AL"))
                s.add(Researcher(project_id=h.project_id, name="Ola Observer", initials="OO"))
            c = setup_choices(h)
            sid = save_session(h, SessionPlan("Two terminals", tag_scheme_id=c.schemes[0][0],
                                              lead_id=c.researchers[0].id, observer_id=c.researchers[1].id))
            slug = h.project().slug
        lead_to_obs, obs_to_lead = asyncio.run(run(Path(tmp) / "data", slug, sid, args.presses))
    for name, v in (("lead's key shown on the observer's screen", lead_to_obs),
                    ("observer's key shown on the lead's screen", obs_to_lead)):
        print(f"{name}: n={len(v)}  p50 {pct(v, 50):.0f} ms  p95 {pct(v, 95):.0f} ms  max {max(v):.0f} ms")
    print("(each screen reads the database every 0.5 s; goal: within 1 s)")


if __name__ == "__main__":
    main()
