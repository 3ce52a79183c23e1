"""The one way tests run the command line.

:func:`fk` runs ``fieldkit ARGS`` in this process through click's :class:`~click.testing.CliRunner`
(its isolation: stdin, stdout, stderr and the environment), calling :func:`fieldkit.cli.main` so
that errors, hints and exit codes are exactly those of the real command; it costs milliseconds
where a new Python process costs over a second. :func:`fk_process` starts a real process: use it
only where start-up, signals, the process's own environment or its exit status are the point
(the language chosen at import, offline mode, Ctrl+C, a kill)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    """What a run left: as :class:`subprocess.CompletedProcess` has it."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def _env(root: Path | str | None, lang: str, env: dict[str, str] | None) -> dict[str, str]:
    out = {"COLUMNS": "200", "FIELDKIT_LANG": lang, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    if root is not None:
        out["FIELDKIT_HOME"] = str(root)
    out.update(env or {})
    return out


def fk(root: Path | str | None, *args: str, ok: bool = True, lang: str = "en", env: dict[str, str] | None = None,
       input: str | None = None, timeout: float | None = None) -> Result:
    """``fieldkit ARGS`` in this process on the data folder ``root``, in ``lang``, with a wide
    terminal; with ``ok`` it must succeed."""
    from click.testing import CliRunner

    from fieldkit import i18n
    from fieldkit.cli import main

    runner = CliRunner()
    before = i18n.language_setting()
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        full = _env(root, lang, env)
        with runner.isolation(input=input, env=full) as (out, err, _):
            i18n.set_language(full["FIELDKIT_LANG"])
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = int(exc.code) if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if isinstance(exc.code, str):
                    sys.stderr.write(exc.code)
            sys.stdout.flush()
            sys.stderr.flush()
            stdout, stderr = out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace")
    finally:
        os.umask(umask)  # main() sets the command's owner-only umask
        i18n.set_language(before)
    done = Result(tuple(args), code, stdout, stderr)
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def fk_process(root: Path | str | None, *args: str, ok: bool = True, lang: str = "en",
               env: dict[str, str] | None = None, input: str | None = None,
               timeout: float = 600) -> subprocess.CompletedProcess:
    """``fieldkit ARGS`` as a real process (start-up, signals and exit status are the point)."""
    full = {**os.environ, **_env(root, lang, env)}
    done = subprocess.run([sys.executable, "-m", "fieldkit", *args], capture_output=True, text=True,
                          env=full, input=input, timeout=timeout)
    if ok:
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done
