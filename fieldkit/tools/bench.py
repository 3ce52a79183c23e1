"""``fieldkit bench transcribe``: what this laptop can do, measured, before fieldwork.

Transcribes the same file with raw faster-whisper and with fieldkit's batch job (same
model and settings, model already loaded for both) and prints real-time factors (RTF:
processing time / audio time) and the ratio between the two. Live transcription runs
on one thread beside the recorder, so the single-thread RTF says whether it keeps up.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from fieldkit.i18n import _

SENTENCES = {
    "en": ["The interview took place at the local health centre.",
           "The nurse explained how the team plans each discharge together with the family.",
           "She said that the weekly meeting with the hospital makes the biggest difference.",
           "Sometimes the coordinator is not told when a patient is sent home."],
    "no": ["Intervjuet ble gjennomført på helsestasjonen.",
           "Sykepleieren forklarte hvordan teamet planlegger utskrivningen sammen med familien.",
           "Hun sa at det ukentlige møtet med sykehuset gjør størst forskjell.",
           "Noen ganger får ikke koordinatoren beskjed når en pasient sendes hjem."],
}


@dataclass
class BenchResult:
    audio_s: float
    raw_s: float
    fieldkit_s: float
    single_thread_rtf: float | None

    @property
    def ratio(self) -> float:
        return self.fieldkit_s / self.raw_s


def make_speech(seconds: float, language: str, folder: Path) -> Path:
    """Synthetic speech of about ``seconds`` (espeak-ng + sox), with pauses between turns."""
    voice = {"no": "nb", "nn": "nb"}.get(language, "en")
    lines = SENTENCES.get(language, SENTENCES["en"])
    parts, total, i = [], 0.0, 0
    while total < seconds:
        wav = folder / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(wav), lines[i % len(lines)]],
                       check=True)
        out = folder / f"r{i}.wav"
        subprocess.run(["sox", str(wav), "-r", "16000", "-c", "1", "-b", "16", str(out), "pad", "0", "0.7"],
                       check=True, capture_output=True)
        total += float(subprocess.run(["soxi", "-D", str(out)], capture_output=True, text=True).stdout)
        parts.append(str(out))
        i += 1
    final = folder / "speech.wav"
    subprocess.run(["sox", *parts, str(final), "trim", "0", str(seconds)], check=True, capture_output=True)
    return final


def bench_transcribe(model: str, language: str, file: Path | None = None, seconds: float = 300,
                     single_thread: bool = True, echo=print, rounds: int = 2) -> BenchResult:
    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session
    from fieldkit.transcription.engine import decode_file, load_model, transcribe_kwargs
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if file is None:
            echo(_("Making {seconds} s of synthetic {language} speech ...").format(seconds=f"{seconds:.0f}", language=language))
            file = make_speech(seconds, language, tmpdir)
        settings = resolve_settings(model=model, language=language)
        audio = decode_file(file)
        audio_s = len(audio) / 16000
        wmodel = load_model(settings)
        kwargs = transcribe_kwargs(settings, wmodel.model.is_multilingual)

        ws = Workspace(tmpdir / "data").ensure()
        raw_runs, fk_runs = [], []
        with ws.create("bench") as handle:
            # alternate the two, and keep each one's best: other work on the laptop
            # (a second app, an indexer) then slows both alike instead of one of them
            for round_ in range(max(1, rounds)):
                echo(_("round {round}: raw faster-whisper on {seconds} s ({model}, {language}, {threads} threads) ...")
                     .format(round=round_ + 1, seconds=f"{audio_s:.0f}", model=model, language=language,
                             threads=settings.cpu_threads()))
                t = time.perf_counter()
                segments, _info = wmodel.transcribe(audio, **kwargs)
                n_raw = sum(1 for _seg in segments)
                raw_runs.append(time.perf_counter() - t)
                with handle.db.transaction() as s:
                    sess = Session(project_id=handle.project_id, title=f"bench {round_ + 1}")
                    s.add(sess)
                import_recording(handle, sess.id, file)
                echo(_("round {round}: fieldkit batch job on the same file ...").format(round=round_ + 1))
                t = time.perf_counter()
                transcribe_session(handle, sess.id, settings)
                fk_runs.append(time.perf_counter() - t)
        raw_s, fk_s = min(raw_runs), min(fk_runs)
        echo("  " + _("raw: {raw}; fieldkit: {fieldkit}").format(
            raw=", ".join(f"{x:.1f} s" for x in raw_runs), fieldkit=", ".join(f"{x:.1f} s" for x in fk_runs)))
        echo("  " + _("segments: raw {n}").format(n=n_raw))
        single = None
        if single_thread and settings.cpu_threads() > 1:
            one = resolve_settings(model=model, language=language, threads=1)
            m1 = load_model(one)
            echo(_("raw faster-whisper on 1 thread (as live transcription runs) ..."))
            t = time.perf_counter()
            segs, _info1 = m1.transcribe(audio[: int(min(audio_s, 120) * 16000)], **kwargs)
            sum(1 for _seg in segs)
            single = (time.perf_counter() - t) / min(audio_s, 120)
        from fieldkit.transcription.hub import record_speed

        record_speed(model, fk_s / audio_s, settings.cpu_threads())
        return BenchResult(audio_s, raw_s, fk_s, single)


# --------------------------------------------------------------------------- accuracy


def normalise(text: str) -> str:
    """Lowercase, punctuation out, spaces collapsed (as references are scored)."""
    import re

    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def edit_distance(ref: list, hyp: list) -> int:
    """Levenshtein distance between two sequences (words or characters)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


@dataclass
class ClipScore:
    model: str
    clip: str
    language: str
    words: int
    word_errors: int
    chars: int
    char_errors: int
    audio_s: float
    seconds: float
    text: str

    @property
    def wer(self) -> float:
        return self.word_errors / self.words if self.words else 0.0

    @property
    def cer(self) -> float:
        return self.char_errors / self.chars if self.chars else 0.0


def speech_clips(folder: Path) -> list[tuple[Path, str, str]]:
    """(audio, reference, language) of every clip with a .txt reference beside it; the
    language is the file name's prefix (no_..., en_...)."""
    out = []
    for audio in sorted(Path(folder).glob("*")):
        if audio.suffix.lower() not in (".flac", ".wav", ".mp3", ".ogg", ".m4a"):
            continue
        ref = audio.with_suffix(".txt")
        if not ref.is_file():
            continue
        lang = audio.name.split("_", 1)[0].lower() if "_" in audio.name else "auto"
        out.append((audio, ref.read_text(encoding="utf-8").strip(), lang))
    return out


def bench_accuracy(folder: Path, models: list[str] | None = None, echo=print) -> list[ClipScore]:
    """WER/CER of each installed model (or ``models``) on real speech clips, with
    fieldkit's own batch settings (VAD, beam 5, language forced per clip). English-only
    models skip clips in other languages. Each model's real-time factor is recorded
    for `fieldkit models list`."""
    from fieldkit.errors import FieldkitError
    from fieldkit.transcription.engine import decode_file, load_model, transcribe_array
    from fieldkit.transcription.hub import record_speed
    from fieldkit.transcription.models import available_models
    from fieldkit.transcription.settings import resolve_settings

    clips = speech_clips(folder)
    if not clips:
        raise FieldkitError(_("No speech clips with .txt references in {folder}.").format(folder=folder),
                            hint=_("Each clip (e.g. no_meeting.flac) needs its "
                                     "reference beside it (no_meeting.txt)."))
    names = models or [m.name for m in available_models()]
    scores: list[ClipScore] = []
    for name in names:
        busy = audio_total = 0.0
        for path, ref, lang in clips:
            settings = resolve_settings(model=name, language=lang)
            try:
                model = load_model(settings)
            except FieldkitError as exc:
                echo(f"{name}: {exc.message}")
                break
            if not model.model.is_multilingual and lang not in ("en", "auto"):
                continue
            audio = decode_file(path)
            t = time.perf_counter()
            hyp = " ".join(s.text for s in transcribe_array(settings, audio, model=model))
            took = time.perf_counter() - t
            r, h = normalise(ref), normalise(hyp)
            scores.append(ClipScore(name, path.stem, lang, len(r.split()), edit_distance(r.split(), h.split()),
                                    len(r), edit_distance(list(r), list(h)), len(audio) / 16000, took, hyp))
            busy += took
            audio_total += len(audio) / 16000
            echo(f"  {name:18} {path.stem:20} WER {scores[-1].wer:.3f}  CER {scores[-1].cer:.3f}")
        if audio_total:
            record_speed(name, busy / audio_total, resolve_settings(model=name).cpu_threads())
    return scores


def pooled(scores: list[ClipScore]) -> dict[tuple[str, str], tuple[float, float, int]]:
    """(model, language) -> (WER, CER, words) over all clips, errors summed."""
    out: dict[tuple[str, str], list[int]] = {}
    for s in scores:
        acc = out.setdefault((s.model, s.language), [0, 0, 0, 0])
        acc[0] += s.word_errors
        acc[1] += s.words
        acc[2] += s.char_errors
        acc[3] += s.chars
    return {k: (we / w if w else 0.0, ce / c if c else 0.0, w) for k, (we, w, ce, c) in out.items()}


# --------------------------------------------------------------------------- every model, real speech


#: a recording for the speed figures is the clips of a language joined, repeated up to this
#: length (a real-time factor of a few seconds of audio is mostly start-up)
MIN_BENCH_S = 60.0
#: batching is taken when it is at least this much faster than the sequential decoder
BATCH_GAIN = 0.95
BENCH_BATCH = 8


@dataclass
class ModelBench:
    """One model on one language's clips (joined into one recording), all in one run."""
    model: str
    language: str
    words: int
    audio_s: float
    raw_s: float            # raw faster-whisper, sequential (WhisperModel.transcribe)
    raw_batched_s: float    # raw faster-whisper, BatchedInferencePipeline
    fieldkit_s: float       # fieldkit's final pass on the imported file, without speakers
    speakers_s: float       # fieldkit's speaker attribution after it
    batch: int              # the batch fieldkit used (1: sequential; chosen from the two raw runs)
    raw_wer: float
    fieldkit_wer: float
    threads: int

    @property
    def rtf(self) -> float:
        return self.fieldkit_s / self.audio_s

    @property
    def total_rtf(self) -> float:
        return (self.fieldkit_s + self.speakers_s) / self.audio_s


def default_speech_dir() -> Path | None:
    """The real-speech clips shipped with fieldkit's source (tests/data/speech)."""
    folder = Path(__file__).resolve().parents[2] / "tests" / "data" / "speech"
    return folder if folder.is_dir() else None


def _bench_recording(items: list[tuple[Path, str]], min_s: float) -> tuple[object, str]:
    import numpy as np

    from fieldkit.transcription.engine import decode_file

    parts, refs, total, i = [], [], 0.0, 0
    while total < min_s or i < len(items):
        path, ref = items[i % len(items)]
        audio = decode_file(path)
        pause = np.zeros(int(16000 * (0.6 + 0.3 * (i % 4))), dtype=np.float32)
        parts += [audio, pause]
        refs.append(ref)
        total += (len(audio) + len(pause)) / 16000
        i += 1
    return np.concatenate(parts), " ".join(refs)


def _wer(ref: str, hyp: str) -> float:
    r, h = normalise(ref).split(), normalise(hyp).split()
    return edit_distance(r, h) / len(r) if r else 0.0


def bench_models(folder: Path | None = None, models: list[str] | None = None, rounds: int = 1,
                 min_s: float = MIN_BENCH_S, echo=print) -> list[ModelBench]:
    """Per installed model (or ``models``) and language of the clips in ``folder`` (default:
    the shipped real-speech clips): raw faster-whisper sequential and batched, and fieldkit's
    final pass on the same file (imported into a throwaway project) with its speaker
    attribution, timed in one run (rounds alternated, the best of each counts), with the word
    error rates. The batch size that was faster and fieldkit's real-time factor are kept for
    this laptop (``models list``, setup, and the final pass's batching)."""
    import soundfile as sf
    from sqlmodel import select

    from fieldkit.errors import FieldkitError
    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.speakers.attribute import SpeakerError, attribute
    from fieldkit.store.models import Session, TranscriptSegment
    from fieldkit.transcription.engine import batched, load_model, transcribe_kwargs
    from fieldkit.transcription.hub import record_speed
    from fieldkit.transcription.models import available_models
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    folder = folder or default_speech_dir()
    clips = speech_clips(folder) if folder else []
    if not clips:
        raise FieldkitError(_("No speech clips with .txt references in {folder}.").format(folder=folder),
                            hint=_("Each clip (e.g. no_meeting.flac) needs its "
                                   "reference beside it (no_meeting.txt)."))
    by_lang: dict[str, list[tuple[Path, str]]] = {}
    for path, ref, lang in clips:
        by_lang.setdefault(lang, []).append((path, ref))
    out: list[ModelBench] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        recordings = {}
        for lang, items in sorted(by_lang.items()):
            audio, ref = _bench_recording(items, min_s)
            sf.write(tmpdir / f"{lang}.wav", audio, 16000, subtype="PCM_16")
            recordings[lang] = (audio, ref, tmpdir / f"{lang}.wav")
        ws = Workspace(tmpdir / "data").ensure()
        with ws.create("bench") as handle:
            for name in models or [m.name for m in available_models()]:
                rows: list[ModelBench] = []
                for lang, (audio, ref, file) in recordings.items():
                    settings = resolve_settings(model=name, language=lang)
                    try:
                        model = load_model(settings)
                    except FieldkitError as exc:
                        echo(f"{name}: {exc.message}")
                        break
                    if not model.model.is_multilingual and lang not in ("en", "auto"):
                        continue
                    kwargs = transcribe_kwargs(settings, model.model.is_multilingual)
                    audio_s = len(audio) / 16000
                    seq, bat, raw_text = [], [], ""
                    for round_ in range(max(1, rounds)):
                        echo(f"{name} {lang} round {round_ + 1}: raw faster-whisper on {audio_s:.0f} s, "
                             f"sequential and batched ({settings.cpu_threads()} threads) ...")
                        t = time.perf_counter()
                        segs, _info = model.transcribe(audio, **kwargs)
                        raw_text = " ".join(s.text for s in segs)
                        seq.append(time.perf_counter() - t)
                        t = time.perf_counter()
                        segs, _info = batched(model).transcribe(audio, batch_size=BENCH_BATCH,
                                                                without_timestamps=True, **kwargs)
                        " ".join(s.text for s in segs)
                        bat.append(time.perf_counter() - t)
                    batch = BENCH_BATCH if min(bat) < BATCH_GAIN * min(seq) else 1
                    with handle.db.transaction() as s:
                        sess = Session(project_id=handle.project_id, title=f"bench {name} {lang}")
                        s.add(sess)
                    import_recording(handle, sess.id, file)
                    echo(f"{name} {lang}: fieldkit's final pass on the same file (batch {batch}) ...")
                    t = time.perf_counter()
                    transcribe_session(handle, sess.id, replace(settings, batch=batch), speakers=False)
                    fk_s = time.perf_counter() - t
                    t = time.perf_counter()
                    try:
                        attribute(handle, sess.id)
                    except SpeakerError as exc:
                        echo(f"{name} {lang}: speakers: {exc}")
                    sp_s = time.perf_counter() - t
                    with handle.db.session() as s:
                        fk_text = " ".join(x.verbatim for x in s.exec(
                            select(TranscriptSegment).where(TranscriptSegment.session_id == sess.id)
                            .order_by(TranscriptSegment.start_ms)))
                    rows.append(ModelBench(name, lang, len(normalise(ref).split()), audio_s, min(seq), min(bat),
                                           fk_s, sp_s, batch, _wer(ref, raw_text), _wer(ref, fk_text),
                                           settings.cpu_threads()))
                    echo(f"  {name:16} {lang}  RTF raw {min(seq) / audio_s:.3f} batched {min(bat) / audio_s:.3f} "
                         f"fieldkit {rows[-1].rtf:.3f} (+speakers {rows[-1].total_rtf:.3f})  "
                         f"WER raw {rows[-1].raw_wer:.3f} fieldkit {rows[-1].fieldkit_wer:.3f}")
                if rows:
                    audio_total = sum(r.audio_s for r in rows)
                    seq_total = sum(r.raw_s for r in rows)
                    bat_total = sum(r.raw_batched_s for r in rows)
                    words = sum(r.words for r in rows)
                    record_speed(name, sum(r.fieldkit_s for r in rows) / audio_total, rows[0].threads,
                                 batch=BENCH_BATCH if bat_total < BATCH_GAIN * seq_total else 1,
                                 wer=sum(r.fieldkit_wer * r.words for r in rows) / words if words else None)
                out += rows
    return out
