"""A private real-time virtual microphone for tests: a PulseAudio server of the test run's
own, with a null sink.

The server runs in a throwaway runtime folder (its own socket, no cookie, no autospawn, no
D-Bus, none of the machine's configuration) and is reached through ``PULSE_SERVER``, which
:func:`start` sets for this process and so for every process the tests start. The
machine's own PulseAudio, if any, is never looked at, started, stopped or changed.

Whatever is played into the sink ``fieldkit_mic`` (with :func:`play`) arrives in real time
on its monitor, the default source; sounddevice records it through the ALSA ``pulse``
device. :func:`start` is idempotent; :func:`stop` ends the server and the silence stream
(the session fixture in tests/conftest.py calls it at the end of the run, and atexit does
if a script started it). ``python tests/support/audio_env.py check`` lists any server,
pacat, PostgreSQL or fieldkit process a test run left behind.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SINK = "fieldkit_mic"
DEVICE = "pulse"
#: the folders of private servers carry this prefix (the leftover check looks for it)
PREFIX = "fieldkit-pulse-"

_runtime: Path | None = None
_daemon: subprocess.Popen | None = None
_silence: subprocess.Popen | None = None
_saved_env: dict[str, str | None] = {}


def available() -> bool:
    return all(shutil.which(t) for t in ("pulseaudio", "pactl", "paplay", "pacat"))


def client_env() -> dict[str, str]:
    """The environment that points a PulseAudio client at the private server."""
    assert _runtime is not None, "the private PulseAudio is not running (call start())"
    return {"PULSE_SERVER": f"unix:{_runtime / 'native'}", "PULSE_RUNTIME_PATH": str(_runtime),
            "PULSE_CLIENTCONFIG": str(_runtime / "client.conf"), "PULSE_COOKIE": str(_runtime / "cookie")}


def _pactl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, **client_env()})


def running() -> bool:
    return _daemon is not None and _daemon.poll() is None and _pactl("info").returncode == 0


def start() -> str | None:
    """Start the private server with the virtual microphone (once per process); returns a
    reason if it cannot."""
    global _runtime, _daemon, _silence
    if not available():
        return "pulseaudio/pactl/paplay/pacat are not installed (scripts/test installs them)"
    if running():
        return None
    if _runtime is None:
        _runtime = Path(tempfile.mkdtemp(prefix=PREFIX))
        (_runtime / "client.conf").write_text("autospawn = no\n", encoding="utf-8")
        atexit.register(stop)
    # 16 kHz mono: with the default 48 kHz stereo sink the ALSA pulse plugin delivered
    # audio late and in bursts here; at the capture rate it is real time
    args = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
            "--disallow-module-loading=no", "--log-target=stderr", "--log-level=error",
            "-L", f"module-native-protocol-unix auth-anonymous=1 socket={_runtime / 'native'}",
            "-L", f"module-null-sink sink_name={SINK} rate=16000 channels=1 "
                  f"sink_properties=device.description={SINK}"]
    if os.geteuid() == 0:
        args.append("--system=false")  # root in CI: a per-user server is still what we want
    daemon_env = {**os.environ, "XDG_RUNTIME_DIR": str(_runtime), "PULSE_RUNTIME_PATH": str(_runtime),
                  "PULSE_STATE_PATH": str(_runtime / "state"), "HOME": str(_runtime),
                  "XDG_CONFIG_HOME": str(_runtime / "config")}
    daemon_env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    log = open(_runtime / "pulseaudio.log", "ab")
    _daemon = subprocess.Popen(args, env=daemon_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                               start_new_session=True)
    log.close()
    for _ in range(100):
        if _daemon.poll() is not None:
            break
        if _pactl("info").returncode == 0:
            break
        time.sleep(0.1)
    if not running():
        text = (_runtime / "pulseaudio.log").read_text(errors="replace").strip()
        stop()
        return f"the private pulseaudio did not start: {text[-400:]}"
    for key, value in client_env().items():
        _saved_env.setdefault(key, os.environ.get(key))
        os.environ[key] = value
    # An idle null sink renders nothing, so its monitor would deliver no blocks: keep a
    # stream of digital silence playing into it, as a real microphone always delivers.
    _silence = subprocess.Popen(["pacat", "--playback", f"--device={SINK}", "--rate=16000", "--channels=1",
                                 "--format=s16le", "--latency-msec=20", "/dev/zero"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _pactl("set-default-sink", SINK)
    _pactl("set-default-source", f"{SINK}.monitor")
    for _ in range(50):  # the silence stream is connected: the monitor delivers blocks
        if "pacat" in _pactl("list", "short", "clients").stdout or _silence.poll() is not None:
            break
        time.sleep(0.1)
    return None


def _end(p: subprocess.Popen | None) -> None:
    if p is None or p.poll() is not None:
        return
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)


def kill_server() -> None:
    """End the private server abruptly (a microphone unplugged); :func:`start` brings it back."""
    global _daemon
    if _daemon is not None and _daemon.poll() is None:
        _daemon.send_signal(signal.SIGKILL)
        _daemon.wait(timeout=10)
    _end(_silence)


def stop() -> None:
    """End the private server and the silence stream, remove the runtime folder and restore
    the environment."""
    global _runtime, _daemon, _silence
    _end(_silence)
    _end(_daemon)
    _silence = _daemon = None
    for key, value in _saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _saved_env.clear()
    if _runtime is not None:
        shutil.rmtree(_runtime, ignore_errors=True)
        _runtime = None


def suspend(on: bool) -> bool:
    """Suspend (or resume) the virtual microphone's sink: its monitor, the microphone,
    delivers nothing meanwhile (a stalled audio server); True when the server did it."""
    return _pactl("suspend-sink", SINK, "1" if on else "0").returncode == 0


def play(path: Path | str) -> subprocess.Popen:
    """Start playing a file into the virtual microphone (real time)."""
    return subprocess.Popen(["paplay", "--device", SINK, str(path)], env={**os.environ, **client_env()})


#: scripts/test gives each run an id in this variable; every process the run starts inherits it
RUN_ENV = "FIELDKIT_TEST_RUN"


def _fieldkit(cmd: str, env: str) -> bool:
    """A fieldkit process: the app or a command (``fieldkit ...``, ``python -m fieldkit``),
    or a process it started (the live transcription worker) carrying its data folder."""
    argv = cmd.split(" ")
    if argv[0].rsplit("/", 1)[-1] == "fieldkit" or "-m fieldkit" in cmd:
        return True
    if len(argv) > 1 and argv[1].rsplit("/", 1)[-1] == "fieldkit":   # python .../bin/fieldkit
        return True
    return "\0FIELDKIT_HOME=" in "\0" + env and "multiprocessing" in cmd


def leftovers(run: str | None = None) -> list[str]:
    """Processes a test run started and left running: private pulseaudio servers and the
    pacat/paplay streams playing into them (their environment names a fieldkit-pulse-
    folder), throwaway PostgreSQL servers (tests/support/pg_server.py, a data folder
    named fieldkit-pg-), tmux servers of tests/support/tmux.py, and fieldkit itself (the app, ``fieldkit observe`` or a command
    in a tmux pane, the live worker: a closed terminal must end them). With ``run``
    (default: ``$FIELDKIT_TEST_RUN``) only those of that run: on a shared machine other
    people's test runs are not ours to report; without one, fieldkit processes count only
    when their data folder is a test's (under pytest's temporary folder)."""
    run = os.environ.get(RUN_ENV) if run is None else run
    mark = f"\0{RUN_ENV}={run}\0" if run else ""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            env = (proc / "environ").read_bytes().decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state == "Z" or (mark and mark not in "\0" + env + "\0"):
            continue
        name = cmd.split(" ", 1)[0].rsplit("/", 1)[-1]
        ours_pulse = PREFIX in env or PREFIX in cmd
        if name in ("pulseaudio", "pacat", "paplay", "parec") and ours_pulse:
            found.append(f"{proc.name} {cmd}")
        elif name in ("postgres", "pg_ctl") and "fieldkit-pg-" in cmd:
            found.append(f"{proc.name} {cmd}")
        elif name == "tmux" and " -L fieldkit-" in cmd and mark:   # a test's tmux server (tests/support/tmux.py)
            found.append(f"{proc.name} {cmd}")
        elif _fieldkit(cmd, env) and (mark or "/pytest-of-" in _home(env)) and "pytest" not in cmd:
            found.append(f"{proc.name} {cmd}")
    return found


def _home(env: str) -> str:
    for item in env.split("\0"):
        if item.startswith("FIELDKIT_HOME="):
            return item.split("=", 1)[1]
    return ""


if __name__ == "__main__":
    if sys.argv[1:] == ["check"]:
        left = leftovers()
        print("\n".join(left) if left else "nothing left running by the tests")
        sys.exit(1 if left else 0)
    print(__doc__)
