"""A real-time virtual microphone for tests: PulseAudio with a null sink.

Whatever is played into the sink ``fieldkit_mic`` (with paplay) arrives in real time on
its monitor, which is the default source; sounddevice records it through the ALSA
``pulse`` device. ``python tests/audio_env.py start`` sets it up (scripts/test does);
the ``virtual_mic`` fixture does the same when needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SINK = "fieldkit_mic"
DEVICE = "pulse"


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def available() -> bool:
    return all(shutil.which(t) for t in ("pulseaudio", "pactl", "paplay"))


def start() -> str | None:
    """Start PulseAudio with the virtual microphone; returns a reason if it cannot."""
    if not available():
        return "pulseaudio/pactl/paplay are not installed (scripts/test installs them)"
    if _run("pulseaudio", "--check").returncode != 0:
        args = ["pulseaudio", "-D", "--exit-idle-time=-1"]
        if os.geteuid() == 0:
            args.append("--system=false")  # root in CI: a per-user daemon is still what we want
        r = _run(*args)
        for _ in range(50):
            if _run("pulseaudio", "--check").returncode == 0:
                break
            time.sleep(0.1)
        else:
            return f"pulseaudio did not start: {r.stderr.strip()}"
    if SINK not in _run("pactl", "list", "short", "sinks").stdout:
        # 16 kHz mono: with the default 48 kHz stereo sink the ALSA pulse plugin
        # delivered audio late and in bursts here; at the capture rate it is real time
        r = _run("pactl", "load-module", "module-null-sink", f"sink_name={SINK}", "rate=16000",
                 "channels=1", f"sink_properties=device.description={SINK}")
        if r.returncode != 0:
            return f"cannot create the null sink: {r.stderr.strip()}"
    _run("pactl", "unload-module", "module-suspend-on-idle")
    # An idle null sink renders nothing, so its monitor would deliver no blocks: keep a
    # stream of digital silence playing into it, as a real microphone always delivers.
    if _run("pgrep", "-f", f"pacat --playback --device={SINK}").returncode != 0:
        subprocess.Popen(["pacat", "--playback", f"--device={SINK}", "--rate=16000", "--channels=1",
                          "--format=s16le", "--latency-msec=20", "/dev/zero"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(0.3)
    _run("pactl", "set-default-sink", SINK)
    _run("pactl", "set-default-source", f"{SINK}.monitor")
    return None


def play(path: Path | str) -> subprocess.Popen:
    """Start playing a file into the virtual microphone (real time)."""
    return subprocess.Popen(["paplay", "--device", SINK, str(path)])


if __name__ == "__main__":
    if sys.argv[1:] == ["start"]:
        problem = start()
        print(problem or f"virtual microphone ready: sink {SINK}, record from device {DEVICE!r}")
        sys.exit(1 if problem else 0)
    print(__doc__)
