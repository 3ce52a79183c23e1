"""The real app in tmux, driven with send-keys like a person would (tests/journeys).

A tmux server of the test's own (``-L socket``). :meth:`Tmux.kill` closes it as a person
closes the terminal and then makes sure every process of its panes has ended: the panes'
processes and their children, found before the panes close, get the SIGHUP of the closed
terminal, then SIGTERM, then SIGKILL; one that needed SIGKILL fails the test (a process
that hangs when its terminal closes is a defect, and must not be hidden by the clean-up)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

#: how long the processes of a closed pane may take to end on their own (the lead's app
#: finishes the live transcript's tail first), and after SIGTERM
HANGUP_S = 60.0
TERM_S = 15.0


def _started(pid: int) -> str | None:
    """A process's start time (tells a pid from a later process that got the same number)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(proc.name))
    return kids


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


class Tmux:
    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket, self.env = socket, env
        self.processes: dict[int, str | None] = {}   # pid -> start time: what the panes ran
        self.ended_by: dict[int, str] = {}           # pid -> what ended it (after kill())

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {out.stderr}")
        return out.stdout

    def start(self, window: str, command: str) -> None:
        env_args = [a for k, v in self.env.items() for a in ("-e", f"{k}={v}")]
        if window == "lead":
            self.run("new-session", "-d", "-s", "fk", "-n", window, "-x", "100", "-y", "30", *env_args, command)
        else:
            self.run("new-window", "-t", "fk", "-n", window, *env_args, command)
        self.run("set-option", "-t", "fk", "remain-on-exit", "on")
        self._remember()

    def pane_pid(self, window: str) -> int:
        return int(self.run("display-message", "-p", "-t", f"fk:{window}", "#{pane_pid}").strip())

    def _remember(self) -> None:
        """The panes' processes and all their descendants now (a child whose parent ends
        moves to another parent: it must be known before)."""
        try:
            listed = self.run("list-panes", "-a", "-F", "#{pane_pid}").split()
        except (RuntimeError, subprocess.TimeoutExpired):
            listed = []
        kids = _children()
        todo = [int(p) for p in listed] + list(self.processes)
        while todo:
            pid = todo.pop()
            if pid not in self.processes:
                self.processes[pid] = _started(pid)
            todo.extend(k for k in kids.get(pid, []) if k not in self.processes)

    def alive(self) -> list[int]:
        """The panes' processes still running (a pid now used by another process is not)."""
        return [pid for pid, start in self.processes.items()
                if start is not None and _started(pid) == start and _state(pid) != "Z"]

    def keys(self, window: str, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", f"fk:{window}", *(["-l"] if literal else []), *keys)
        time.sleep(0.15)

    def screen(self, window: str) -> str:
        return self.run("capture-pane", "-p", "-t", f"fk:{window}")

    def wait_for(self, window: str, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while True:
            shown = self.screen(window)
            if text in shown:
                return shown
            if time.monotonic() > end:
                raise AssertionError(f"{text!r} did not appear in the {window} window:\n{shown}")
            time.sleep(0.2)

    def close(self, hangup_s: float = HANGUP_S, term_s: float = TERM_S) -> dict[int, str]:
        """Close every pane as a closed terminal does (the server ends: each pane's processes
        get SIGHUP and their terminal is gone), then wait for the processes to end, with
        SIGTERM after ``hangup_s`` and SIGKILL after ``term_s`` more. Returns what ended
        each process: "hangup", "SIGTERM" or "SIGKILL"."""
        self._remember()
        self.ended_by = {}
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
        for how, sig, wait_s in (("hangup", None, hangup_s), ("SIGTERM", signal.SIGTERM, term_s),
                                 ("SIGKILL", signal.SIGKILL, 10.0)):
            for pid in self.alive():
                if sig is not None:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
            end = time.monotonic() + wait_s
            while self.alive() and time.monotonic() < end:
                time.sleep(0.1)
            for pid in self.processes:
                if pid not in self.ended_by and pid not in self.alive():
                    self.ended_by[pid] = how
        commands = {pid: _command(pid) for pid in self.alive()}
        if commands:
            raise AssertionError(f"still running after SIGKILL: {commands}")
        return self.ended_by

    def kill(self, hangup_s: float = HANGUP_S, term_s: float = TERM_S) -> None:
        """Close the panes (:meth:`close`); a process that needed SIGKILL fails the test."""
        self._remember()
        commands = {pid: _command(pid) for pid in self.alive()}
        ended = self.close(hangup_s, term_s)
        killed = {pid: commands.get(pid, "?") for pid, how in ended.items() if how == "SIGKILL"}
        self.processes = {}
        if killed:
            raise AssertionError(f"processes of the closed tmux panes ignored SIGHUP and SIGTERM and needed "
                                 f"SIGKILL: {killed}")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "?"
