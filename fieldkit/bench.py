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
from dataclasses import dataclass
from pathlib import Path

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
                     single_thread: bool = True, echo=print) -> BenchResult:  # noqa: ANN001
    from fieldkit.projects import Workspace
    from fieldkit.recording.importer import import_recording
    from fieldkit.store.models import Session
    from fieldkit.transcription.engine import decode_file, load_model, transcribe_kwargs
    from fieldkit.transcription.service import transcribe_session
    from fieldkit.transcription.settings import resolve_settings

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        if file is None:
            echo(f"Making {seconds:.0f} s of synthetic {language} speech ...")
            file = make_speech(seconds, language, tmpdir)
        settings = resolve_settings(model=model, language=language)
        audio = decode_file(file)
        audio_s = len(audio) / 16000
        wmodel = load_model(settings)
        kwargs = transcribe_kwargs(settings, wmodel.model.is_multilingual)

        echo(f"raw faster-whisper on {audio_s:.0f} s ({model}, {language}, {settings.cpu_threads()} threads) ...")
        t = time.perf_counter()
        segments, _ = wmodel.transcribe(audio, **kwargs)
        n_raw = sum(1 for _ in segments)
        raw_s = time.perf_counter() - t

        ws = Workspace(tmpdir / "data").ensure()
        with ws.create("bench") as handle:
            with handle.db.transaction() as s:
                sess = Session(project_id=handle.project_id, title="bench")
                s.add(sess)
            import_recording(handle, sess.id, file)
            echo("fieldkit batch job on the same file ...")
            t = time.perf_counter()
            transcribe_session(handle, sess.id, settings)
            fk_s = time.perf_counter() - t
        echo(f"  segments: raw {n_raw}")
        single = None
        if single_thread and settings.cpu_threads() > 1:
            one = resolve_settings(model=model, language=language, threads=1)
            m1 = load_model(one)
            echo("raw faster-whisper on 1 thread (as live transcription runs) ...")
            t = time.perf_counter()
            segs, _ = m1.transcribe(audio[: int(min(audio_s, 120) * 16000)], **kwargs)
            sum(1 for _ in segs)
            single = (time.perf_counter() - t) / min(audio_s, 120)
        return BenchResult(audio_s, raw_s, fk_s, single)
