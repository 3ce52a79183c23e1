"""SRT and WebVTT subtitles: one cue per transcript segment, timings exact to the
millisecond; WebVTT names the speaker with a voice tag (``<v L03>``)."""

from __future__ import annotations

from pathlib import Path

from fieldkit.export.model import Bundle, Session


def _ts(ms: int, sep: str) -> str:
    ms = max(0, int(ms))
    h, rest = divmod(ms, 3_600_000)
    mnt, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return f"{h:02d}:{mnt:02d}:{s:02d}{sep}{milli:03d}"


def _cues(s: Session, layer: str):
    for seg in s.segments:
        text = " ".join(seg.text(layer).split())
        end = seg.end_ms if seg.end_ms > seg.start_ms else seg.start_ms + 1
        yield seg, seg.start_ms, end, text


def render_srt(bundle: Bundle, s: Session) -> str:
    out = []
    for n, (seg, a, b, text) in enumerate(_cues(s, bundle.layer), start=1):
        who = f"{seg.speaker}: " if seg.speaker else ""
        out.append(f"{n}\n{_ts(a, ',')} --> {_ts(b, ',')}\n{who}{text or '...'}\n")
    return "\n".join(out)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(bundle: Bundle, s: Session) -> str:
    out = ["WEBVTT", ""]
    for seg, a, b, text in _cues(s, bundle.layer):
        voice = _vtt_escape(seg.speaker) if seg.speaker else ""
        body = _vtt_escape(text) or "..."
        out += [f"{_ts(a, '.')} --> {_ts(b, '.')}", f"<v {voice}>{body}" if voice else body, ""]
    return "\n".join(out)


def plan(bundle: Bundle, out_dir: Path, fmt: str) -> list:
    render = render_srt if fmt == "srt" else render_vtt
    return [(out_dir / f"{s.stem}.{fmt}",
             (lambda f, s=s: f.write(render(bundle, s).encode("utf-8"))))
            for s in bundle.sessions]
