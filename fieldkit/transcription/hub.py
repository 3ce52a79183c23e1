"""Models that can be fetched or copied in: the catalogue, ``download`` and ``add``.

``download`` is the only code in fieldkit that goes online, and only when a researcher
runs ``fieldkit models download NAME``. It reads the repository's file list from the
hub (``/api/models/<repo>/tree/main/<subfolder>``: sizes, and SHA-256 for large files /
git blob ids for small ones), fetches each file with HTTP Range requests into a hidden
staging folder in the model cache (so a cut-off download continues where it stopped),
verifies every file, checks that the result is a Whisper model, and only then renames the
staging folder to its final name. The hub's address can be changed with
``$FIELDKIT_HUB_URL`` (a mirror, or a local server in the tests).

``add`` installs a model copied from another computer (a folder, or a .zip / .tar[.gz]
archive of one) the same way: staged, checked, renamed.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import shutil
import socket
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fieldkit.transcription.models import ModelError, cache_dir, check_model_dir, measures_dir
from fieldkit.i18n import N_, _

HUB_ENV = "FIELDKIT_HUB_URL"
DEFAULT_HUB = "https://huggingface.co"
#: the files of a CTranslate2 Whisper conversion; others in the folder are ignored
WANTED = ("model.bin", "config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt",
          "preprocessor_config.json")
CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteModel:
    name: str
    repo: str
    subfolder: str       # where the CTranslate2 files are in the repository ("" = top)
    approx_mb: int       # download size (float16 weights), as published
    cost: float          # compute relative to Whisper base (for the expected speed)
    best_for: str

    @property
    def multilingual(self) -> bool:
        return True


#: what `fieldkit models list` offers for download. NB-Whisper (National Library of Norway)
#: keeps its CTranslate2 conversion in a ct2 subfolder; the turbo conversion is at the top.
CATALOGUE: dict[str, RemoteModel] = {m.name: m for m in (
    RemoteModel("nb-whisper-tiny", "NbAiLab/nb-whisper-tiny", "ct2", 78, 0.45, N_("Norwegian")),
    RemoteModel("nb-whisper-base", "NbAiLab/nb-whisper-base", "ct2", 148, 1.0, N_("Norwegian")),
    RemoteModel("nb-whisper-small", "NbAiLab/nb-whisper-small", "ct2", 488, 3.2, N_("Norwegian")),
    RemoteModel("nb-whisper-medium", "NbAiLab/nb-whisper-medium", "ct2", 1530, 9.0, N_("Norwegian")),
    RemoteModel("nb-whisper-large", "NbAiLab/nb-whisper-large", "ct2", 3090, 18.0, N_("Norwegian")),
    RemoteModel("large-v3-turbo", "mobiuslabsgmbh/faster-whisper-large-v3-turbo", "", 1620, 7.0,
                N_("other languages")),
    # the verbatim variants (lower case, no punctuation, fillers and repetitions kept): the
    # final pass writes the verbatim layer with the variant of the project's NB-Whisper where
    # it is installed (VERBATIM_SUFFIX). Sizes of tiny and large as the hub lists them
    # (float32 weights); base, small and medium taken as twice their normalising models'.
    RemoteModel("nb-whisper-tiny-verbatim", "NbAiLabBeta/nb-whisper-tiny-verbatim", "ct2", 151, 0.45,
                N_("Norwegian, verbatim")),
    RemoteModel("nb-whisper-base-verbatim", "NbAiLab/nb-whisper-base-verbatim", "ct2", 296, 1.0,
                N_("Norwegian, verbatim")),
    RemoteModel("nb-whisper-small-verbatim", "NbAiLab/nb-whisper-small-verbatim", "ct2", 976, 3.2,
                N_("Norwegian, verbatim")),
    RemoteModel("nb-whisper-medium-verbatim", "NbAiLab/nb-whisper-medium-verbatim", "ct2", 3060, 9.0,
                N_("Norwegian, verbatim")),
    RemoteModel("nb-whisper-large-verbatim", "NbAiLab/nb-whisper-large-verbatim", "ct2", 6170, 18.0,
                N_("Norwegian, verbatim")),
)}
#: a model's verbatim variant is installed under its name with this ending
VERBATIM_SUFFIX = "-verbatim"
#: relative compute of the models that come with fieldkit
LOCAL_COST = {"tiny.en": 0.45, "base": 1.0}
#: base model, int8, 2 cores: the guess when nothing was measured on this laptop. It was
#: 0.66 (about 40 min per hour), from one 11.7 s clip whose time included loading the model;
#: the final pass on real recordings runs at about 0.12 (domain facts; the issue measured
#: 5-7 min per hour), so the guess is that
FALLBACK_BASE_RTF = 0.12


def hub_url() -> str:
    return os.environ.get(HUB_ENV, DEFAULT_HUB).rstrip("/")


# --------------------------------------------------------------------------- speed figures


def _speed_file() -> Path:
    return measures_dir() / "speed.json"


def _speed_key(model: str) -> str:
    return Path(model).name if os.sep in model else model


def _read_speeds() -> dict:
    try:
        data = json.loads(_speed_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record_speed(model: str, rtf: float, threads: int, source: str = "bench",
                 batch: int | None = None, wer: float | None = None) -> None:
    """Keep what ``fieldkit bench transcribe`` measured, for ``models list``. A real
    transcription (``source="run"``) is kept too, unless a bench figure is there: a bench
    run measures on purpose, a transcription measures whatever else the laptop was doing.
    ``batch``: the batch size the bench found fastest here (1: none), used by the final pass;
    ``wer``: the bench's word error rate on the real-speech clips."""
    path = _speed_file()
    data = _read_speeds()
    key = _speed_key(model)
    old = data.get(key) if isinstance(data.get(key), dict) else {}
    if source != "bench" and old and old.get("source", "bench") == "bench":
        return
    entry = {"rtf": round(rtf, 4), "threads": threads, "source": source}
    for name, value in (("batch", batch), ("wer", wer)):
        if value is not None:
            entry[name] = round(value, 4) if isinstance(value, float) else value
        elif name in old:
            entry[name] = old[name]
    data[key] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


#: the batch size when the bench has not measured one for a model here (see the README's table)
DEFAULT_BATCH = 1


def measured_batch(model: str) -> int:
    """The batch size ``fieldkit bench transcribe`` found fastest for ``model`` here (1: the
    sequential decoder was faster), else :data:`DEFAULT_BATCH`."""
    entry = _read_speeds().get(_speed_key(model))
    try:
        return max(1, int(entry["batch"]))
    except (TypeError, KeyError, ValueError):
        return DEFAULT_BATCH


def measured_speeds() -> dict[str, float]:
    try:
        return {k: float(v["rtf"]) for k, v in json.loads(_speed_file().read_text()).items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def speed_of(name: str) -> tuple[float | None, bool]:
    """(real-time factor, measured?) for a model name: measured by `bench transcribe`
    where it was, else scaled from the base model's figure on this laptop."""
    measured = measured_speeds()
    if name in measured:
        return measured[name], True
    cost = CATALOGUE[name].cost if name in CATALOGUE else LOCAL_COST.get(name)
    if cost is None:
        return None, False
    base = measured.get("base")
    if base is None and "tiny.en" in measured:
        base = measured["tiny.en"] / LOCAL_COST["tiny.en"]
    return (base or FALLBACK_BASE_RTF) * cost, False


def describe_speed(name: str) -> str:
    """The speed for ``models list``, in the user's language: measured on this laptop (by
    ``fieldkit bench transcribe`` or a finished transcription), or clearly a guess."""
    rtf, measured = speed_of(name)
    if rtf is None:
        return _("not known: run `fieldkit bench transcribe --model {name}`").format(name=name)
    minutes = max(1, round(rtf * 60))
    if measured:
        return _("{minutes} min per hour of audio (measured here)").format(minutes=minutes)
    return _("about {minutes} min per hour of audio (a guess; `fieldkit bench transcribe` "
             "measures it)").format(minutes=minutes)


# --------------------------------------------------------------------------- download speed and choice


#: a model is suggested when its final pass runs at most this fraction of real time here,
#: which leaves room for speaker detection within the 1.5x target on this laptop
SUGGEST_RTF = 1.0
#: the guess for a download's speed when none was measured here (bytes per second)
GUESS_DOWNLOAD_BPS = 5_000_000


def suggested_norwegian_model() -> str:
    """The largest NB-Whisper whose final pass runs within :data:`SUGGEST_RTF` here: from
    ``fieldkit bench transcribe`` figures of this laptop (the model's own, or the base
    model's scaled by compute), or the guess when nothing was measured."""
    best = "nb-whisper-tiny"
    for name in ("nb-whisper-tiny", "nb-whisper-base", "nb-whisper-small", "nb-whisper-medium", "nb-whisper-large"):
        rtf, _measured = speed_of(name)
        if rtf is not None and rtf <= SUGGEST_RTF:
            best = name
    return best


def _download_speed_file() -> Path:
    return measures_dir() / "download-speed.json"


def record_download_speed(n_bytes: int, seconds: float) -> None:
    """Keep the speed of a download that moved enough bytes to say something (1 MB)."""
    if n_bytes < 1_000_000 or seconds <= 0:
        return
    path = _download_speed_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"bytes_per_s": n_bytes / seconds}))
        os.replace(tmp, path)
    except OSError:
        pass


def expected_download(name: str) -> tuple[int, float, bool]:
    """(bytes, seconds, measured?) for downloading ``name``: the seconds from the speed the
    last download on this laptop reached, or a guess when none was measured."""
    size = CATALOGUE[name].approx_mb * 1_000_000
    try:
        bps = float(json.loads(_download_speed_file().read_text())["bytes_per_s"])
        measured = bps > 0
    except (OSError, ValueError, KeyError, TypeError):
        bps, measured = GUESS_DOWNLOAD_BPS, False
    if not measured:
        bps = GUESS_DOWNLOAD_BPS
    return size, size / bps, measured


def describe_download(name: str) -> str:
    """'nb-whisper-small: 488 MB, about 2 min (measured speed of the last download)'."""
    size, seconds, measured = expected_download(name)
    minutes = max(1, round(seconds / 60))
    if measured:
        return _("{name}: {size}, about {minutes} min at the speed of the last download "
                 "here").format(name=name, size=_mb(size), minutes=minutes)
    return _("{name}: {size}, about {minutes} min (a guess at 40 Mbit/s; nothing was "
             "downloaded here yet)").format(name=name, size=_mb(size), minutes=minutes)


# --------------------------------------------------------------------------- download


@dataclass
class RemoteFile:
    path: str            # path inside the repository
    size: int | None
    sha256: str | None   # large (LFS) files
    git_oid: str | None  # small files: git blob id (sha1 of "blob <size>\0" + content)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


#: seconds without an answer before a download gives up (the same command continues it)
TIMEOUT_ENV = "FIELDKIT_HUB_TIMEOUT"
#: room kept free beyond the model's size: recordings need the disk too
DISK_MARGIN = 64 << 20


def _timeout() -> float:
    try:
        return float(os.environ.get(TIMEOUT_ENV, "30"))
    except ValueError:
        return 30.0


def _open(url: str, headers: dict[str, str] | None = None, timeout: float | None = None):
    req = urllib.request.Request(url, headers={"User-Agent": "fieldkit", **(headers or {})})
    return urllib.request.urlopen(req, timeout=timeout or _timeout())


def _mb(n: int) -> str:
    return f"{n / 1e6:.0f} MB" if n >= 1e6 else f"{n / 1e6:.1f} MB"


def _unreachable(model: RemoteModel, exc: BaseException) -> ModelError:
    """The network's part in a failed download, worded for what happened."""
    hint = _("What was fetched is kept and the same command continues. On a laptop that "
             "never goes online use `fieldkit models add` with a copy from another computer.")
    reason = exc.reason if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError) else exc
    if isinstance(exc, urllib.error.HTTPError):
        return ModelError(_("The model hub at {hub_url} answered {code} ({reason}) for {name} "
                            "({repo}).").format(hub_url=hub_url(), code=exc.code, reason=exc.reason,
                                                name=model.name, repo=model.repo), hint=hint)
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return ModelError(_("The model hub at {hub_url} stopped answering (nothing for {seconds:.0f} s) "
                            "while fetching {name}.").format(hub_url=hub_url(), seconds=_timeout(), name=model.name),
                          hint=hint)
    if isinstance(reason, (socket.gaierror, ConnectionRefusedError)) or (
            isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)):
        return ModelError(_("No connection to the model hub at {hub_url}: this laptop seems to be "
                            "offline ({exc}). Nothing was downloaded for {name}.").format(
                              hub_url=hub_url(), exc=getattr(reason, "strerror", None) or reason, name=model.name),
                          hint=_("Connect to a network and run the same command again (what was "
                                 "fetched before is kept). On a laptop that never goes online use "
                                 "`fieldkit models add` with a copy from another computer."))
    return ModelError(_("Could not reach the model hub at {hub_url} for {name} "
                        "({repo}): {exc}").format(hub_url=hub_url(), name=model.name, repo=model.repo, exc=reason),
                      hint=hint)


def _cut_off(model: RemoteModel, f: RemoteFile, got: int) -> ModelError:
    return ModelError(_("The download of {name} was cut off ({path}: {got} of {size}).").format(
                          name=model.name, path=f.path, got=_mb(got), size=_mb(f.size or 0)),
                      hint=_("Run the same command again: it continues where it stopped."))


class _DiskFull(Exception):
    def __init__(self, exc: OSError) -> None:
        super().__init__(str(exc))
        self.exc = exc


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def remote_files(model: RemoteModel) -> list[RemoteFile]:
    """The CTranslate2 files in the model's repository folder, with sizes and hashes."""
    repo = urllib.parse.quote(model.repo)
    url = f"{hub_url()}/api/models/{repo}/tree/main" + (f"/{urllib.parse.quote(model.subfolder)}" if model.subfolder else "")
    try:
        with _open(url) as resp:
            listing = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ModelError(_("The hub has no folder {value} in {repo}.").format(value=model.subfolder or '(top)', repo=model.repo),
                             hint=_("The repository's layout may have changed.")) from exc
        raise _unreachable(model, exc) from exc
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise _unreachable(model, exc) from exc
    out = []
    for entry in listing if isinstance(listing, list) else []:
        if entry.get("type") != "file":
            continue
        path = str(entry.get("path", ""))
        if path.rsplit("/", 1)[-1] not in WANTED:
            continue
        lfs = entry.get("lfs") or {}
        out.append(RemoteFile(path, int(lfs.get("size") or entry.get("size") or 0) or None,
                              lfs.get("oid") or None, None if lfs else entry.get("oid")))
    if not any(f.name == "model.bin" for f in out):
        raise ModelError(_("{repo}/{subfolder} has no model.bin on the hub.").format(repo=model.repo, subfolder=model.subfolder),
                         hint=_("The repository's layout may have changed."))
    return out


def _verify(path: Path, f: RemoteFile) -> str | None:
    """None when the file is what the hub says, else what is wrong."""
    size = path.stat().st_size
    if f.size is not None and size != f.size:
        return _("{size} bytes instead of {expected}").format(size=size, expected=f.size)
    if f.sha256:
        h = hashlib.sha256()
    elif f.git_oid:
        h = hashlib.sha1(usedforsecurity=False)
        h.update(b"blob %d\0" % size)
    else:
        return None
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    want = f.sha256 or f.git_oid
    return None if h.hexdigest() == want else _("checksum {got} instead of {want} (the first 12 digits)").format(
        got=h.hexdigest()[:12], want=want[:12])


def _tag(resp) -> str | None:
    """The file's entity tag (the content address the hub gives it), without quotes."""
    tag = resp.headers.get("X-Linked-Etag") or resp.headers.get("ETag")
    return tag.removeprefix("W/").strip('"') if tag else None


def _disk(call: Callable[[], object]) -> object:
    """Run a write; a full disk (or a file-size limit) becomes :class:`_DiskFull`."""
    try:
        return call()
    except OSError as exc:
        if exc.errno in _DISK_FULL:
            raise _DiskFull(exc) from exc
        raise


def _fetch(model: RemoteModel, f: RemoteFile, dest: Path, progress: Callable[[int], None]) -> None:
    """Fetch one file into ``dest``, continuing a partial one with a Range request. The
    file's tag from the last attempt goes along as ``If-Range``: when the hub has a new
    version since, it sends the whole file and the partial one is started again."""
    url = f"{hub_url()}/{urllib.parse.quote(model.repo)}/resolve/main/{urllib.parse.quote(f.path)}"
    tag_file = dest.with_name(f".{dest.name}.etag")
    have = dest.stat().st_size if dest.exists() else 0
    if f.size is not None and have > f.size:
        dest.unlink()
        have = 0
    if f.size is not None and have == f.size:
        return
    headers = {}
    if have:
        headers["Range"] = f"bytes={have}-"
        if tag_file.exists():
            headers["If-Range"] = f'"{tag_file.read_text().strip()}"'
    got = 0
    try:
        with _open(url, headers) as resp:
            if have and resp.status != 206:   # a new version, or the server ignored the range
                have = 0
            tag = _tag(resp)
            if tag:
                _disk(lambda: tag_file.write_text(tag))
            expected = resp.headers.get("Content-Length")
            out = _disk(lambda: open(dest, "ab" if have else "wb"))
            with out:
                while chunk := resp.read(CHUNK):
                    _disk(lambda: out.write(chunk))
                    got += len(chunk)
                    progress(len(chunk))
                _disk(out.flush)
                _disk(lambda: os.fsync(out.fileno()))
            if expected is not None and got < int(expected):
                raise _cut_off(model, f, have + got)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and f.size is not None and have >= f.size:
            return
        raise _unreachable(model, exc) from exc
    except (ConnectionError, http.client.HTTPException) as exc:  # cut off: the partial file stays
        if got or have:
            raise _cut_off(model, f, have + got) from exc
        raise _unreachable(model, exc) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise _unreachable(model, exc) from exc


def installed_path(name: str) -> Path:
    return cache_dir() / "models" / name


def _disk_full(model: RemoteModel, staging: Path, need: int, exc: BaseException | None) -> ModelError:
    """A full disk: nothing is installed, and the partial download goes to give the room back
    (a recording running beside it needs the disk more than a download that can be repeated)."""
    shutil.rmtree(staging, ignore_errors=True)
    folder = staging.parent
    free = shutil.disk_usage(folder).free if folder.exists() else 0
    return ModelError(_("Not enough room on the disk for {name}: it needs {need}, {folder} has "
                        "{free} free{detail}. Nothing was installed, and the partial download was "
                        "removed to give the room back.").format(
                          name=model.name, need=_mb(need), folder=folder, free=_mb(free),
                          detail=f" ({exc.strerror or exc})" if isinstance(exc, OSError) else ""),
                      hint=_("Free some room (recordings need it too), or set FIELDKIT_CACHE to a "
                             "folder on a larger disk, and run the same command again."))


def download(name: str, on_progress: Callable[[int, int], None] | None = None, force: bool = False) -> Path:
    """Download catalogue model ``name`` (resumable, verified, installed atomically).

    ``on_progress(done_bytes, total_bytes)`` is called as bytes arrive."""
    model = CATALOGUE.get(name)
    if model is None:
        raise ModelError(_("No downloadable model called {name!r}.").format(name=name),
                         hint=_("Choose one of: {names}").format(names=", ".join(CATALOGUE)))
    target = installed_path(name)
    if target.exists() and not force:
        check_model_dir(target)
        return target
    files = remote_files(model)
    staging = cache_dir() / "models" / f".download-{name}"
    total = sum(f.size or 0 for f in files)
    staging.parent.mkdir(parents=True, exist_ok=True)
    done = sum(min((staging / f.name).stat().st_size, f.size or 0)
               for f in files if (staging / f.name).exists())
    if shutil.disk_usage(staging.parent).free < total - done + DISK_MARGIN:
        raise _disk_full(model, staging, total + DISK_MARGIN, None)
    started, had = time.monotonic(), done
    try:
        _disk(lambda: staging.mkdir(parents=True, exist_ok=True))
        fetched = _fetch_all(model, files, staging, done, total, on_progress)
        record_download_speed(fetched - had, time.monotonic() - started)
        check_model_dir(staging)
        for tag in staging.glob(".*.etag"):
            tag.unlink()
        _disk(lambda: (staging / "source.json").write_text(
            json.dumps({"repo": model.repo, "subfolder": model.subfolder, "hub": hub_url()})))
    except _DiskFull as exc:
        raise _disk_full(model, staging, total + DISK_MARGIN, exc.exc) from exc.exc
    _install(staging, target, replace=force)
    return target


def _fetch_all(model: RemoteModel, files: list[RemoteFile], staging: Path, done: int, total: int,
               on_progress: Callable[[int, int], None] | None) -> int:
    def step(n: int) -> None:
        nonlocal done
        done += n
        if on_progress:
            on_progress(done, total)

    if on_progress:
        on_progress(done, total)
    for f in files:
        dest = staging / f.name
        for attempt in (1, 2):
            before = dest.stat().st_size if dest.exists() else 0
            _fetch(model, f, dest, step)
            after = dest.stat().st_size
            if after < before:  # restarted from zero
                done -= before
            problem = _verify(dest, f)
            if not problem:
                break
            dest.unlink()
            done -= after
            # a continued file whose first part came from an older version: once more whole
            if attempt == 1 and before:
                continue
            raise ModelError(_("{path} from {repo} arrived damaged ({problem}); it "
                               "was removed.").format(path=f.path, repo=model.repo, problem=problem),
                             hint=_("Run the same command again to fetch that file "
                                    "anew (the files that arrived whole are kept)."))
    return done


def _install(staging: Path, target: Path, replace: bool = False) -> None:
    """Rename the checked staging folder into place (the old one goes only after)."""
    old = None
    if target.exists():
        if not replace:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(_("A model called {name!r} is already installed in "
                                 "{target}.").format(name=target.name, target=target),
                             hint=_("Pass --name to install it under another name."))
        old = target.with_name(f".old-{target.name}-{uuid.uuid4().hex[:6]}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- add


ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")


def _find_model_dir(root: Path) -> Path | None:
    """The folder under ``root`` with model.bin and config.json (a ct2 folder counts)."""
    if (root / "model.bin").is_file():
        return root
    for pattern in ("*/model.bin", "*/*/model.bin"):   # a repository's ct2/, an archive's top folder
        hits = sorted(p.parent for p in root.glob(pattern) if (p.parent / "config.json").is_file())
        if hits:
            return hits[0]
    return None


def _safe_extract(archive: Path, into: Path) -> None:
    name = archive.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.infolist():
                    target = (into / member.filename).resolve()
                    if not str(target).startswith(str(into.resolve()) + os.sep) and target != into.resolve():
                        raise ModelError(_("{archive} has a file outside its folder "
                                             "({filename}); not installed.").format(archive=archive, filename=member.filename))
                zf.extractall(into)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(into, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise ModelError(_("{archive} is not a readable archive: {exc}").format(archive=archive, exc=exc),
                         hint=_("Pass the model folder itself, or a .zip / .tar.gz "
                                  "of it.")) from exc


def default_name(source: Path) -> str:
    """A model's name from where it came from: NB-Whisper's ``.../nb-whisper-small/ct2``
    is called nb-whisper-small."""
    base = source
    for suffix in ARCHIVE_SUFFIXES:
        if base.name.lower().endswith(suffix):
            base = base.with_name(base.name[: -len(suffix)])
            break
    if base.name in ("ct2", "model", "data"):
        base = base.parent
    return base.name.replace(" ", "-") or "model"


def add(source: str | os.PathLike[str], name: str | None = None, replace: bool = False) -> Path:
    """Install a model folder or archive copied from another computer."""
    src = Path(source).expanduser()
    if not src.exists():
        raise ModelError(_("{src} does not exist.").format(src=src))
    is_archive = src.is_file()
    if is_archive and not src.name.lower().endswith(ARCHIVE_SUFFIXES):
        raise ModelError(_("{src} is neither a model folder nor an archive (.zip, "
                             ".tar, .tar.gz).").format(src=src))
    models_dir = cache_dir() / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    work = models_dir / f".add-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    try:
        if is_archive:
            _safe_extract(src, work / "x")
            found = _find_model_dir(work / "x")
            if found is None:
                raise ModelError(_("{src} holds no Whisper model (no model.bin with "
                                     "a config.json in it).").format(src=src),
                                 hint=_("Archive the model folder (for NB-Whisper, "
                                          "its ct2 folder)."))
        else:
            found = _find_model_dir(src)
            if found is None:
                raise ModelError(_("{src} holds no model.bin: it is not a model "
                                     "folder, or it is incomplete.").format(src=src),
                                 hint=_("A CTranslate2 Whisper model has model.bin, "
                                          "config.json and a tokenizer (for "
                                          "NB-Whisper, copy its ct2 folder)."))
        check_model_dir(found)   # incomplete or the wrong kind: refused before anything is installed
        staging = work / "model"
        staging.mkdir()
        for f in found.iterdir():
            if f.is_file() and f.name in WANTED:
                shutil.copyfile(f, staging / f.name)
        check_model_dir(staging)
        final = name or default_name(found if not is_archive or found != work / "x" else src)
        if final.startswith(".") or os.sep in final or final in ("tiny.en",):
            raise ModelError(_("{final!r} cannot be a model's name here.").format(final=final), hint=_("Pass "
                                                                                   "--name "
                                                                                   "NAME."))
        target = models_dir / final
        (staging / "source.json").write_text(json.dumps({"added_from": str(src)}))
        _install(staging, target, replace=replace)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- advice


def norwegian_model(name: str) -> bool:
    """Whether a model (a name or a folder) is one of NB-Whisper's."""
    return "nb-whisper" in Path(name).name


def advice(language: str, final_model: str, installed: list[str] | None = None) -> str | None:
    """What a project with this language and final model should do, or None when it is fine."""
    from fieldkit.transcription.models import available_models

    names = installed if installed is not None else [m.name for m in available_models()]
    lang = (language or "").lower()
    if lang in ("no", "nb", "nn", "norsk"):
        if norwegian_model(final_model):
            return None
        have = [n for n in names if n.startswith("nb-whisper") and not n.endswith(VERBATIM_SUFFIX)] \
            or [n for n in names if n.startswith("nb-whisper")]
        if have:
            return _("Norwegian project: use NB-Whisper for the final transcript "
                     "(`fieldkit models use {name} -p PROJECT`).").format(name=have[-1])
        return _("Norwegian project without a Norwegian model: NB-Whisper (National Library of Norway) "
                 "is much better at Norwegian than the bundled base model; `fieldkit models download "
                 "{name}` while online ({download}), or `fieldkit models add FOLDER` from another "
                 "computer.").format(name=suggested_norwegian_model(),
                                     download=describe_download(suggested_norwegian_model()))
    if lang not in ("en", "auto") and final_model in ("base", "tiny.en"):
        if "large-v3-turbo" in names:
            return _("Use large-v3-turbo for the final transcript "
                     "(`fieldkit models use large-v3-turbo -p PROJECT`).")
        return _("For a better final transcript: `fieldkit models download large-v3-turbo` while online.")
    return None
