"""Long interviews (issue 27): peak memory of transcription and speaker attribution, and
playback start, on recordings of 10, 60 and 180 minutes built from the real-speech clips
(tests/data/speech, cycled with pauses of 0.3-1.5 s), each compared with the old
whole-file path in the same run. Every memory figure is the peak resident size
(``ru_maxrss``) of a child process that does that one thing (python, numpy and the models
included, so compare rows, not absolute sizes).

    .venv/bin/python tests/bench/long_interviews.py [--minutes 10,60,180] [--model base]
        [--transcribe-minutes 10] [--old-max 60] [--skip speakers,...]
    .venv/bin/python tests/bench/long_interviews.py --review [2000]

- transcribe (new): the windowed path of ``fieldkit transcribe`` (fieldkit.transcription.
  service): by default on the LAST ``--transcribe-minutes`` of each recording (a range,
  read from the long file; memory per window does not depend on what came before; the
  whole recording at base speed takes about 0.12-0.4 x its length on 2 cores); 0 = all.
- transcribe (old): the whole recording decoded into one array and handed to
  faster-whisper, up to its first segment (where its peak is: VAD and features of the
  whole recording); only up to ``--old-max`` minutes (it needs ~4 GB at 60).
- speakers (new): fieldkit.speakers.diarize.diarize_stream over the whole recording.
- speakers (old): diarize() of the whole recording in one array (up to ``--old-max``).
- transcribe also prints the resident size after the first window, a quarter, half, three
  quarters and the last (``rss_mb_along``): flat when nothing builds up window by window.
- playback: time to the samples of a 5 s segment at several positions (new: read only the
  span; old: decode the file, then cut), and what the play key does before the sound card
  gets them (``key@...``: Player.play's read of the piece from the position, up to
  PIECE_MS, stretched at 0.75x when slowed down; the sound card's own latency not included).
- review (also ``--review [N]`` alone): key to changed row at 2,000 segments, and a
  whole-list rebuild.
- last, a summary of the figures against the issue's targets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
SR = 16000
CLIPS = ["en_jfk", "en_librivox_sense", "en_libri61_left", "en_libri260_right", "no_npsc_medium",
         "no_npsc_short"]


def build(folder: Path, minutes: int) -> tuple[Path, str, str]:
    """A project with one session whose recording is ``minutes`` long (16 kHz FLAC,
    written piece by piece); returns (data dir, project slug, session id)."""
    import numpy as np
    import soundfile as sf

    from fieldkit.projects import Workspace
    from fieldkit.store.models import Recording, RecordingFile, RecordingState, Session, SessionStatus
    from tests.support.real_speech import clip

    ws = Workspace(folder / "data").ensure()
    handle = ws.create(f"Long {minutes}", language="en")
    with handle.db.transaction() as s:
        sess = Session(project_id=handle.project_id, title=f"{minutes} minutes", status=SessionStatus.recorded)
        s.add(sess)
    rec_id = uuid.uuid4()
    rel = Path("audio") / str(sess.id) / str(rec_id)
    (handle.folder / rel).mkdir(parents=True)
    clips = [clip(c)[0] for c in CLIPS]
    rng = np.random.default_rng(minutes)
    total = minutes * 60 * SR
    written = 0
    with sf.SoundFile(handle.folder / rel / "0000.flac", "w", SR, 1, "PCM_16", format="FLAC") as f:
        i = 0
        while written < total:
            piece = clips[i % len(clips)] * rng.uniform(0.6, 1.0)
            gap = np.zeros(int(SR * rng.uniform(0.3, 1.5)), np.float32)
            part = np.concatenate([piece, gap])[: total - written]
            f.write(part)
            written += len(part)
            i += 1
    with handle.db.transaction() as s:
        s.add(Recording(id=rec_id, session_id=sess.id, state=RecordingState.imported, folder=str(rel),
                        duration_ms=minutes * 60_000))
        s.add(RecordingFile(recording_id=rec_id, seq=0, path=str(rel / "0000.flac"), offset_ms=0,
                            duration_ms=minutes * 60_000, complete=True))
    slug = handle.folder.name
    handle.close()
    return folder / "data", slug, str(sess.id)


def child(argv: list[str]) -> None:
    """One measurement in this process; prints a JSON line."""
    import numpy as np

    what, data, slug, sid = argv[:4]
    extra = json.loads(argv[4]) if len(argv) > 4 else {}
    from fieldkit.projects import Workspace

    t0 = time.perf_counter()
    out: dict = {}
    with Workspace(Path(data)).open(slug) as handle:
        sid_u = uuid.UUID(sid)
        if what == "transcribe-new":
            from fieldkit.transcription.service import transcribe_session
            from fieldkit.transcription.settings import resolve_settings

            st = resolve_settings(model=extra["model"], language="en")
            first = []

            rss = []

            def seen(p) -> None:
                if p.phase == "window" and not first:
                    first.append(time.perf_counter() - t0)
                if p.phase == "window":     # resident size now: does it creep window by window?
                    rss.append(int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20)
                out["windows"] = p.windows

            run = transcribe_session(handle, sid_u, st, span=tuple(extra["span"]) if extra.get("span") else None,
                                     speakers=False, on_progress=seen)
            out["audio_s"] = (run.total_ms - (extra["span"][0] if extra.get("span") else 0)) / 1000
            out["first_window_s"] = first[0] if first else None
            if rss:    # resident MB after the first window, a quarter, half, three quarters, the last
                out["rss_mb_along"] = [rss[min(len(rss) - 1, len(rss) * q // 4)] for q in range(4)] + [rss[-1]]
        elif what == "transcribe-old":
            from fieldkit.recording.audio import _spans, read_file
            from fieldkit.transcription.engine import load_model, transcribe_array
            from fieldkit.transcription.settings import resolve_settings

            st = resolve_settings(model=extra["model"], language="en")
            model = load_model(st)
            audio = read_file(_spans(handle, sid_u)[0])        # the old load_audio: the whole file
            next(iter(transcribe_array(st, audio, model=model)))
            out["audio_s"] = len(audio) / SR
        elif what == "speakers-new":
            from fieldkit.recording.audio import _spans, available_ms, load_audio
            from fieldkit.speakers.diarize import diarize_stream

            files = _spans(handle, sid_u)
            d = diarize_stream(lambda a, b: load_audio(handle, sid_u, a, b, spans=files),
                               available_ms(handle, sid_u), 4)
            out["windows"] = d.windows
        elif what == "speakers-old":
            from fieldkit.recording.audio import _spans, read_file
            from fieldkit.speakers.diarize import diarize

            d = diarize(read_file(_spans(handle, sid_u)[0]), 4)
            out["windows"] = d.windows
        elif what == "playback":
            from fieldkit.recording.audio import _spans, load_audio, read_file
            from fieldkit.recording.playback import PIECE_MS, stretch

            total = extra["total_ms"]
            stretch(np.zeros(SR, np.float32), 0.75)       # PyAV's filters loaded once, as after a first play
            for pos in extra["positions"]:
                t = time.perf_counter()
                load_audio(handle, sid_u, pos, pos + 5000)
                out[f"new@{pos // 60000}min"] = time.perf_counter() - t
                # what the play key does before the sound card gets the samples (Player.play):
                # the piece from the position (up to PIECE_MS), stretched when slowed down
                for rate in (1.0, 0.75):
                    t, c = time.perf_counter(), time.process_time()
                    piece = load_audio(handle, sid_u, pos, min(total, pos + PIECE_MS))
                    stretch(piece, rate)
                    out[f"key@{pos // 60000}min x{rate:g}"] = time.perf_counter() - t
                    # its CPU time: what it takes on a laptop nobody else is using
                    out[f"key_cpu@{pos // 60000}min x{rate:g}"] = time.process_time() - c
                if extra.get("old"):
                    t = time.perf_counter()
                    read_file(_spans(handle, sid_u)[0])[pos * SR // 1000: (pos + 5000) * SR // 1000]
                    out[f"old@{pos // 60000}min"] = time.perf_counter() - t
            out["total_min"] = total / 60000
    out["seconds"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time()          # all threads: less at the mercy of the machine's load
    out["load"] = os.getloadavg()[0]
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out), flush=True)


def review_bench(segments: int = 2000) -> None:
    """Time from the key to the changed row on screen in the review screen at
    ``segments`` segments (Textual's Pilot, 120x40): an edit, a quote and the layer
    toggle; and, in the same run, a whole-list rebuild (what every change did before)."""
    import asyncio

    from fieldkit.projects import Workspace
    from fieldkit.store.models import Session, TranscriptSegment
    from fieldkit.tui.app import FieldkitApp
    from fieldkit.tui.screens.review import ReviewScreen
    from fieldkit.tui.widgets.transcript_list import TranscriptList

    async def run(root: Path) -> None:
        ws = Workspace(root).ensure()
        h = ws.create("Review bench", language="en")
        with h.db.transaction() as s:
            sess = Session(project_id=h.project_id, title="Long")
            s.add(sess)
        with h.db.transaction() as s:
            for i in range(segments):
                s.add(TranscriptSegment(session_id=sess.id, start_ms=i * 3000, end_ms=i * 3000 + 2800,
                                        verbatim=f"segment {i} " + "words as they were heard " * 3,
                                        speaker_label="S1" if i % 3 else "S2",
                                        words=[{"w": f" w{k}", "s": i * 3000, "e": i * 3000 + 100,
                                                "p": 0.5 if k == 3 else 0.95} for k in range(15)]))
        slug = h.project().slug
        app = FieldkitApp(data_dir=root, project=slug)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(1.0)
            app.push_screen(ReviewScreen(slug, sess.id))
            await pilot.pause(0.5)
            screen = app.screen
            lst = screen.query_one("#review-list", TranscriptList)
            while lst.option_count < segments:
                await pilot.pause(0.05)
            await pilot.pause(0.5)

            handler = ReviewScreen.on_review_screen_loaded
            spent = []

            def timed_handler(self, message) -> None:
                t, c = time.perf_counter(), time.thread_time()
                handler(self, message)
                spent.append((time.perf_counter() - t, time.perf_counter(), time.thread_time() - c))
            ReviewScreen.on_review_screen_loaded = timed_handler

            async def timed(label: str, act, done) -> None:
                spent.clear()
                t = time.perf_counter()
                await act()
                while not done():
                    await pilot.pause(0.001)
                # the key to the end of the first list update that shows the change (the
                # screen is drawn from it on the next frame)
                shown = next(end for _took, end, _cpu in spent)
                # and the CPU time of those list updates (the screen's own thread): what they
                # take on a laptop nobody else is using
                print(f"review, {segments} segments: {label}: {(shown - t) * 1000:.0f} ms "
                      f"(list updates: {', '.join(f'{x * 1000:.0f}' for x, _e, _c in spent)} ms; their CPU: "
                      f"{', '.join(f'{c * 1000:.0f}' for _x, _e, c in spent)} ms; load "
                      f"{os.getloadavg()[0]:.2f})", flush=True)

            for n, at in enumerate((1000, 1500, 500)):
                screen._goto(at)
                await pilot.pause(0.2)
                await pilot.press("enter")
                inp = screen.query_one("#review-input")
                while inp.has_class("hidden") or not inp.has_focus:     # the editor open (a loaded machine is slow)
                    await pilot.pause(0.05)
                inp.value = f"edited text number {n}"

                async def enter() -> None:
                    await pilot.press("enter")
                await timed(f"edit #{n + 1}", enter,
                            lambda n=n, at=at: f"edited text number {n}" in str(lst.get_option_at_index(at).prompt))
                await pilot.pause(1.0)
            count = lst.option_count

            async def quote() -> None:
                await pilot.press("q")
            await timed("quote (one row added)", quote, lambda: lst.option_count == count + 1)
            await pilot.pause(1.0)

            async def layer() -> None:
                await pilot.press("v")
            await timed("layer toggle", layer, lambda: screen.show_verbatim)

            async def rebuild() -> None:     # the old way: every row made and measured again
                lst._keys = []
                screen.post_message(screen.Loaded(screen.data))
            await timed("whole-list rebuild (before this change)", rebuild, lambda: lst._keys != [])
        h.close()

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp) / "data"))


def measure(what: str, data: Path, slug: str, sid: str, extra: dict | None = None) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", what, str(data), slug, sid, json.dumps(extra or {})],
                       capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1",
                                                            "PYTHONPATH": str(ROOT)})
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": (r.stderr or r.stdout)[-600:]}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--review":
        review_bench(int(sys.argv[2]) if len(sys.argv) > 2 else 2000)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", default="10,60,180")
    ap.add_argument("--model", default="base")
    ap.add_argument("--transcribe-minutes", type=float, default=10,
                    help="transcribe the last N minutes of each recording (0: all of it)")
    ap.add_argument("--old-max", type=int, default=60, help="longest recording for the old paths (minutes)")
    ap.add_argument("--skip", default="", help="comma list of: transcribe,speakers,playback,old,review")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"machine: {os.cpu_count()} cores; model {args.model}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    got: dict[tuple[int, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in [int(m) for m in args.minutes.split(",")]:
            t0 = time.perf_counter()
            data, slug, sid = build(Path(tmp) / f"m{minutes}", minutes)
            print(f"\n== {minutes} min recording (built in {time.perf_counter() - t0:.0f} s)", flush=True)
            total_ms = minutes * 60_000
            old = "old" not in skip and minutes <= args.old_max
            if "transcribe" not in skip:
                span = None
                if args.transcribe_minutes and args.transcribe_minutes < minutes:
                    span = [int(total_ms - args.transcribe_minutes * 60_000), total_ms]
                r = got[minutes, "transcribe"] = measure("transcribe-new", data, slug, sid,
                                                         {"model": args.model, "span": span})
                print(f"transcribe (windows{', last %g min' % args.transcribe_minutes if span else ''}): "
                      f"{r}", flush=True)
                if old:
                    r = measure("transcribe-old", data, slug, sid, {"model": args.model})
                    print(f"transcribe (old, whole file, to its first segment): {r}", flush=True)
            if "speakers" not in skip:
                r = got[minutes, "speakers"] = measure("speakers-new", data, slug, sid)
                print(f"speakers (windows): {r}", flush=True)
                if old:
                    r = measure("speakers-old", data, slug, sid)
                    print(f"speakers (old, whole file): {r}", flush=True)
            if "playback" not in skip:
                positions = [0, total_ms // 4, total_ms // 2, total_ms - 10_000]
                r = got[minutes, "playback"] = measure("playback", data, slug, sid,
                                                       {"positions": positions, "total_ms": total_ms, "old": old})
                print(f"playback start of 5 s (s): {r}", flush=True)
            import shutil

            shutil.rmtree(Path(tmp) / f"m{minutes}", ignore_errors=True)
    if "review" not in skip:
        print("", flush=True)
        subprocess.run([sys.executable, __file__, "--review", "2000"],
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    summary(got, args.model)


def summary(got: dict, model: str) -> None:
    """The issue's targets beside the figures of this run."""
    lengths = sorted({m for m, _w in got})
    if not lengths:
        return
    first = lengths[0]
    print(f"\nsummary against the targets (issue 27; model {model}):")
    for what in ("transcribe", "speakers"):
        base = got.get((first, what), {}).get("peak_mb")
        for m in lengths:
            r = got.get((m, what))
            if not r or "peak_mb" not in r:
                continue
            ratio = r["peak_mb"] / base if base else float("nan")
            ok = ratio <= 1.3 and r["peak_mb"] < 1536
            print(f"  {what:10} {m:4d} min: peak {r['peak_mb']:6.0f} MB, x{ratio:.2f} of {first} min "
                  f"{'(' + str(r['rss_mb_along']) + ' MB along the windows) ' if r.get('rss_mb_along') else ''}"
                  f"(target <= 1.3x and < 1.5 GB: {'met' if ok else 'MISSED'}); CPU {r.get('cpu_s', 0):.0f} s, "
                  f"load {r.get('load', 0):.2f}")
    for m in lengths:
        r = got.get((m, "playback"))
        if not r:
            continue
        keys = {k: v for k, v in r.items() if k.startswith("key@")}
        cpus = {k: v for k, v in r.items() if k.startswith("key_cpu@")}
        if keys:
            worst = max(keys, key=keys.get)
            worst_cpu = max(cpus, key=cpus.get) if cpus else None
            cpu = (f"; its CPU at most {cpus[worst_cpu]:.3f} s ({worst_cpu}; on a laptop nobody else uses: "
                   f"{'met' if cpus[worst_cpu] <= 0.3 else 'MISSED'})") if worst_cpu else ""
            print(f"  playback  {m:4d} min: key to samples at most {keys[worst]:.3f} s ({worst}; target "
                  f"<= 0.3 s: {'met' if keys[worst] <= 0.3 else 'MISSED'}){cpu}, load {r.get('load', 0):.2f}")


if __name__ == "__main__":
    main()
