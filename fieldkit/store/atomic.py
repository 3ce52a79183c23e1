"""Writing export files atomically: a temporary file in the same folder, fsync, rename.

A crash (or a full disk) while exporting leaves either the old file or none, never half a
file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def atomic_write(path: Path, write: Callable[[BinaryIO], None], *, overwrite: bool = False) -> None:
    """Call ``write`` with a binary file object, then move the result to ``path``.

    Without ``overwrite`` an existing ``path`` is an error (FileExistsError), checked again
    at the rename (``os.link`` fails if the name appeared in the meantime)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w+b") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)   # fails if the name exists: never replaces silently
                os.unlink(tmp)
            except FileExistsError:
                raise
            except OSError:          # no hard links (FAT/exFAT stick): check, then rename
                if path.exists():
                    raise FileExistsError(path) from None
                os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
