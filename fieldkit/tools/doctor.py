"""``fieldkit doctor``: one pass/fail line per thing fieldkit needs on this laptop."""

from __future__ import annotations

import ctypes.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from fieldkit.i18n import _, format_number

#: below this much free disk, a 2.5-hour interview at 16 kHz mono (about 300 MB
#: of raw audio plus its FLAC copy) may not fit
MIN_FREE_BYTES = 1024**3


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    note: bool = False   # advice: shown, but not a failure

    def line(self) -> str:
        return f"[{'NOTE' if self.note else 'PASS' if self.ok else 'FAIL'}] {self.name}: {self.detail}"


def check_python() -> Check:
    v = sys.version_info
    return Check("Python", v >= (3, 11), _("{major}.{minor}.{micro} (needs 3.11+)").format(major=v.major, minor=v.minor, micro=v.micro))


def check_portaudio() -> Check:
    try:
        import sounddevice

        return Check("PortAudio", True, sounddevice.get_portaudio_version()[1])
    except OSError as exc:
        found = ctypes.util.find_library("portaudio")
        return Check(
            "PortAudio",
            False,
            _("not usable ({exc}); library found: {value}. Install it: sudo apt-get "
                "install libportaudio2").format(exc=exc, value=found or 'none'),
        )


def check_input_devices() -> Check:
    try:
        import sounddevice

        devices = [d for d in sounddevice.query_devices() if d["max_input_channels"] > 0]
    except Exception as exc:  # PortAudio missing or broken: reported above too
        return Check(_("Input devices"), False, _("cannot list devices ({exc})").format(exc=exc))
    if not devices:
        return Check(_("Input devices"), False, _("no microphone found (import "
                                                 "recordings instead)"))
    names = ", ".join(d["name"] for d in devices[:4]) + (" ..." if len(devices) > 4 else "")
    return Check(_("Input devices"), True, f"{len(devices)}: {names}")


def check_models() -> Check:
    try:
        from fieldkit.transcription.models import available_models
    except ImportError as exc:
        return Check(_("Models"), False, _("transcription module missing ({exc})").format(exc=exc))
    try:
        models = available_models()
    except Exception as exc:
        return Check(_("Models"), False, str(exc))
    if not models:
        return Check(
            _("Models"),
            False,
            _("no offline Whisper model found; install fieldkit[models] or pass a "
                "model folder"),
        )
    return Check(_("Models"), True, ", ".join(f"{m.name} ({m.source})" for m in models))


def _project_models(data_dir: Path) -> list[tuple[str, str, str]]:
    """(name, language, final model) of each readable project, read with sqlite3 alone
    (encrypted projects are skipped: their settings need the passphrase)."""
    import json
    import sqlite3

    out = []
    projects = data_dir / "projects"
    for db in sorted(projects.glob("*/project.db")) if projects.is_dir() else []:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            try:
                for name, language, conf in con.execute("SELECT name, language, transcription FROM project"):
                    model = (json.loads(conf) if conf else {}).get("model") or "base"
                    out.append((name, language or "", model))
            finally:
                con.close()
        except (sqlite3.Error, ValueError):
            continue
    return out


def check_project_models(data_dir: Path) -> list[Check]:
    """Advice per project: Norwegian projects are told about NB-Whisper."""
    from fieldkit.transcription.hub import advice
    from fieldkit.transcription.models import available_models

    installed = [m.name for m in available_models()]
    out = []
    for name, language, model in _project_models(data_dir):
        tip = advice(language, model, installed)
        if tip:
            out.append(Check(_("Model for {name}").format(name=name), True, _("final model {model}. {tip}").format(model=model, tip=tip), note=True))
    return out


def check_data_dir(data_dir: Path) -> Check:
    from fieldkit.errors import FieldkitError
    from fieldkit.paths import ensure_private_dir

    try:
        ensure_private_dir(data_dir)
    except FieldkitError as exc:
        return Check(_("Data folder"), False, exc.message)
    return Check(_("Data folder"), True, str(data_dir))


def check_disk(data_dir: Path) -> Check:
    probe = data_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    hours = free / (16000 * 2 * 3600)
    ok = free >= MIN_FREE_BYTES
    return Check(
        _("Free disk"),
        ok,
        _("{gb} GB free at {probe} (about {hours:.0f} h of 16 kHz audio)").format(
            gb=format_number(free / 1024**3, 1), probe=probe, hours=hours)
        + ("" if ok else _("; free some space before recording")),
    )


def run_checks(data_dir: Path) -> list[Check]:
    return [
        check_python(),
        check_portaudio(),
        check_input_devices(),
        check_models(),
        *check_project_models(data_dir),
        check_data_dir(data_dir),
        check_disk(data_dir),
    ]
