"""Shared test helpers."""

from __future__ import annotations

import subprocess
import time


class Tmux:
    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket, self.env = socket, env

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

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
