"""Where things live: the user's data directory and the bundled guides and data."""

from __future__ import annotations

import os
from pathlib import Path

from fieldkit.errors import DataDirError
from fieldkit.i18n import _

ENV_HOME = "FIELDKIT_HOME"
_PKG = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """A folder shipped with fieldkit: ``guides`` or ``data``.

    In a source checkout (editable install) they sit beside the package; in a wheel
    they are packed inside it as ``_guides`` / ``_data``.
    """
    inside = _PKG / f"_{name}"
    return inside if inside.is_dir() else _PKG.parent / name


def default_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("fieldkit", appauthor=False)


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--data-dir`` wins, then ``$FIELDKIT_HOME``, then the platform's user data dir."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    return default_data_dir()


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` owner-only (0700) if missing and check it is writable."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise DataDirError(
            _("Cannot create the data folder {path}: {strerror}.").format(path=path, strerror=exc.strerror),
            hint=_("Choose another with --data-dir or ${env_home}.").format(env_home=ENV_HOME),
        ) from exc
    if not path.is_dir():
        raise DataDirError(_("The data folder {path} is not a folder.").format(path=path))
    if not os.access(path, os.W_OK | os.X_OK):
        raise DataDirError(
            _("The data folder {path} is not writable.").format(path=path),
            hint=_("Fix its permissions or choose another with --data-dir or "
                     "${env_home}.").format(env_home=ENV_HOME),
        )
    return path
