"""Start-up figures: `fieldkit --help` and the app's first screen, medians over runs.

    .venv/bin/python tests/bench/startup_bench.py [--runs 11]

`--help` is timed as a whole process. The first screen is timed in a real terminal:
the real `fieldkit` is started in a detached tmux pane and the pane is polled until the
home screen shows its project count (the projects list is loaded), so the figure is
what a researcher waits for. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIELDKIT = str(Path(sys.executable).with_name("fieldkit"))
SOCKET = f"fkbench{os.getpid()}"  # a tmux server of its own: other tmux users cannot disturb it


def time_help(runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([FIELDKIT, "--help"], capture_output=True, check=True)
        out.append(time.perf_counter() - t)
    return out


BARE_TEXTUAL = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("bare textual ready")
Bare().run()
"""


def time_first_screen(runs: int, data_dir: str, command: str | None = None,
                      marker: str = "project(s)") -> list[float]:
    out = []
    for i in range(runs):
        name = f"fkbench{os.getpid()}_{i}"
        t = time.perf_counter()
        subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-s", name, "-x", "100", "-y", "30",
                        command or f"{FIELDKIT} --data-dir {data_dir}"], check=True)
        try:
            while True:
                pane = subprocess.run(["tmux", "-L", SOCKET, "capture-pane", "-p", "-t", name],
                                      capture_output=True, text=True).stdout
                if marker in pane:
                    out.append(time.perf_counter() - t)
                    break
                if time.perf_counter() - t > 30:
                    raise SystemExit(f"first screen did not appear in 30 s:\n{pane}")
                time.sleep(0.01)
        finally:
            subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", name], capture_output=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    help_times = time_help(args.runs)
    print(f"fieldkit --help: median {statistics.median(help_times):.3f} s "
          f"(min {min(help_times):.3f}, max {max(help_times):.3f}, {args.runs} runs; goal <= 0.3 s)")
    if shutil.which("tmux") is None:
        print("first screen: tmux not installed, skipped")
        return
    # one session keeps the private tmux server up between runs (a server that exits with
    # its last session races the next run's start)
    subprocess.run(["tmux", "-L", SOCKET, "new-session", "-d", "-s", "keep", "sleep 100000"], check=True)
    try:
        run_first_screens(args)
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)


def run_first_screens(args) -> None:
    with tempfile.TemporaryDirectory() as data:
        # the first run also creates the demo project; report it apart
        first = time_first_screen(1, data)[0]
        times = time_first_screen(args.runs, data)
    print(f"first screen (projects listed), very first run incl. demo creation: {first:.3f} s")
    print(f"first screen (projects listed): median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs; goal <= 1 s)")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(BARE_TEXTUAL)
    bare = time_first_screen(args.runs, "", f"{sys.executable} {fh.name}", "bare textual ready")
    os.unlink(fh.name)
    print(f"baseline, a bare Textual app with one line of text: median {statistics.median(bare):.3f} s; "
          f"fieldkit / baseline = {statistics.median(times) / statistics.median(bare):.2f}")


if __name__ == "__main__":
    main()
