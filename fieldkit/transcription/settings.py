"""Transcription settings: project defaults, overridden per session, checked before use."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from fieldkit.errors import ExitCode, FieldkitError
from fieldkit.i18n import _

#: Whisper has no separate code for bokmål: "nb" means Norwegian ("no")
ALIASES = {"nb": "no", "norsk": "no", "bokmål": "no", "nynorsk": "nn", "english": "en"}


#: the ways the word list can be used (TranscriptionSettings.word_list_use)
WORD_LIST_USES = ("targeted", "correct", "hotwords")


class SettingsError(FieldkitError):
    exit_code = ExitCode.USAGE


@dataclass
class TranscriptionSettings:
    model: str = "base"               # the final model (batch pass after the interview)
    live_model: str = ""              # the model for live transcription ("" = the final model)
    #: the model of the verbatim layer (what was said, fillers and repetitions kept): "" = the
    #: final model's verbatim variant where it is installed (NB-Whisper's "-verbatim"), else the
    #: final model; "none" = always the final model; or a model name
    verbatim_model: str = ""
    language: str = "no"              # a Whisper language code, or "auto"
    compute_type: str = "int8"
    threads: int = 0                  # 0: the machine's physical cores (machine_threads)
    batch: int = 0                    # windows decoded together (faster-whisper's batched
                                      # pipeline); 0: as measured fastest on this laptop, 1: none
    beam_size: int = 5
    vad: bool = True                  # skip silence: no invented text in pauses
    condition_on_previous_text: bool = False  # avoids repetition loops on long audio
    word_timestamps: bool = True
    vocabulary: list[str] = field(default_factory=list)  # names, places, terms
    #: how the word list is used (fieldkit.transcription.wordlist): "targeted" (decoded without
    #: it; a segment with a near miss of a term decoded again alone with the list as hotwords,
    #: kept when it then has the term and as many words; near misses corrected), "correct"
    #: (only corrected after decoding) or "hotwords" (faster-whisper's hotwords on every
    #: window; the final pass's dropped-speech pass decodes what they made it skip)
    word_list_use: str = "targeted"

    def for_live(self) -> "TranscriptionSettings":
        """The same settings with the live model in place of the final one."""
        from dataclasses import replace

        return replace(self, model=self.live_name())

    def live_name(self) -> str:
        """The model live transcription uses: the live model when one is set; else the
        final model when it is no heavier than base; else base, which keeps up on one
        thread of a 2-core laptop (a final NB-Whisper small or larger used live fell
        40-60 s behind the speech)."""
        if self.live_model:
            return self.live_model
        from pathlib import Path

        from fieldkit.transcription.hub import CATALOGUE, LOCAL_COST

        name = Path(self.model).name
        cost = CATALOGUE[name].cost if name in CATALOGUE else LOCAL_COST.get(name)
        return self.model if cost is not None and cost <= LOCAL_COST["base"] else "base"

    def cpu_threads(self) -> int:
        return self.threads or machine_threads()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hotwords(self) -> str | None:
        words = [w.strip() for w in self.vocabulary if w.strip()]
        return ", ".join(words)[:400] or None


def machine_threads() -> int:
    """Threads for CTranslate2 from this machine: its physical cores among the processors this
    process may run on (a hyperthread sibling only slows matrix work down; the aTrain user who
    found it 7x slower had threads set past the cores), capped by a container's CPU quota."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        allowed = list(range(os.cpu_count() or 1))
    cores = set()
    for cpu in allowed:
        try:
            text = open(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list").read().strip()
        except OSError:
            text = str(cpu)
        cores.add(text)      # the same list names every sibling of one core
    n = len(cores) or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            n = min(n, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return n


def normalise_language(code: str) -> str:
    code = (code or "").strip().lower()
    code = ALIASES.get(code, code)
    if code == "auto":
        return code
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if code not in _LANGUAGE_CODES:
        raise SettingsError(
            _("Unknown language code {code!r}.").format(code=code),
            hint=_("Use a Whisper code such as no (bokmål), nn (nynorsk), en, sv, da, or auto. "
                   "All: {codes}").format(codes=" ".join(sorted(_LANGUAGE_CODES))),
        )
    return code


def resolve_settings(project=None, session=None, **overrides: Any) -> TranscriptionSettings:
    """Defaults < project (language, vocabulary, settings) < session < explicit overrides."""
    valid = {f.name for f in fields(TranscriptionSettings)}
    merged: dict[str, Any] = {}
    if project is not None:
        merged["language"] = project.language
        merged.update(project.transcription or {})
        vocab = [w.strip() for w in (project.vocabulary or "").splitlines() if w.strip()]
        if vocab:
            merged["vocabulary"] = vocab
    if session is not None:
        merged.update(session.transcription or {})
    merged.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(merged) - valid
    if unknown:
        raise SettingsError(_("Unknown transcription setting {value!r}.").format(value=sorted(unknown)[0]),
                            hint=_("Known: {names}").format(names=", ".join(sorted(valid))))
    s = TranscriptionSettings(**merged)
    s.language = normalise_language(s.language)
    if s.word_list_use not in WORD_LIST_USES:
        raise SettingsError(_("Unknown word_list_use {value!r}.").format(value=s.word_list_use),
                            hint=_("Known: {names}").format(names=", ".join(WORD_LIST_USES)))
    if s.beam_size < 1 or s.threads < 0 or s.batch < 0:
        raise SettingsError(_("beam_size must be at least 1, threads and batch 0 or more."))
    return s
