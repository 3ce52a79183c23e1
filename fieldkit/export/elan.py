"""ELAN annotation files (.eaf, EAF 3.0): a tier per speaker with the transcript
segments, a tier per tag code ("Tag: Key quote"), one per note author ("Notes: TB"),
one for guide marks, and one per researcher for debriefs and notes without a time.

ELAN does not allow overlapping annotations on one tier, nor annotations of zero
length: a segment starting before the previous one of the same speaker ended is moved
to start there; a point event is a short annotation (:data:`POINT_MS`, shortened to
the next event on its tier; events at the same millisecond share one); a state tag
lasts from its start to its end. Debriefs have no time: they span the session.

When the audio goes along (pseudonymisation off), it is written as ``<stem>.wav``
beside the .eaf (16 kHz mono PCM, MIME ``audio/x-wav``: ELAN plays WAV), linked by an
absolute URL and by ``RELATIVE_MEDIA_URL`` ``./<stem>.wav``, so ELAN finds it wherever
the folder is moved."""

from __future__ import annotations

from pathlib import Path

from fieldkit.export.model import Bundle, Event, Session
from fieldkit.i18n import N_, _

POINT_MS = 500
#: tier names, in the exporting person's language where they are written
GUIDE_TIER = N_("Guide")
TAG_TIER = N_("Tag: {label}")
NOTES_TIER = N_("Notes: {author}")
LOOSE_TIER = N_("Debrief and notes: {author}")
#: event kinds on a researcher's notes tier
NOTE_KINDS = ("note", "quote", "marker")


def _event_tier(e: Event) -> str | None:
    if e.kind == "tag":
        return _(TAG_TIER).format(label=e.tag_label or e.code)
    if e.kind in ("coverage", "probe", "returned"):
        return _(GUIDE_TIER)
    if e.kind in NOTE_KINDS:
        return _(NOTES_TIER).format(author=e.author or "fieldkit")
    return None


def event_tiers(s: Session) -> dict[str, list[tuple[int, int, str]]]:
    """Annotations per event tier, without overlaps and never of zero length."""
    points: dict[str, dict[int, list[Event]]] = {}
    stretches: dict[str, list[tuple[int, int, str]]] = {}
    loose: dict[str, list[str]] = {}
    for e in s.reading_events():
        if e.kind == "debrief" or e.position_ms is None:
            loose.setdefault(_(LOOSE_TIER).format(author=e.author or "fieldkit"), []).append(
                (_("Debrief: ") if e.kind == "debrief" else "") + (e.text or e.summary()))
            continue
        tier = _event_tier(e)
        if tier is None:
            continue
        if e.kind == "tag" and e.end_ms is not None and e.end_ms > e.position_ms:
            stretches.setdefault(tier, []).append((e.position_ms, e.end_ms, e.text or e.tag_label or e.code))
        else:
            points.setdefault(tier, {}).setdefault(e.position_ms, []).append(e)
    out: dict[str, list[tuple[int, int, str]]] = {}
    for tier in list(stretches) + [t for t in points if t not in stretches]:
        anns = [(a, b, text, True) for a, b, text in stretches.get(tier, [])]
        for pos, evs in points.get(tier, {}).items():
            anns.append((pos, pos + POINT_MS, " | ".join(_text(e) for e in evs), False))
        anns.sort(key=lambda x: (x[0], x[1]))
        fixed: list[tuple[int, int, str]] = []
        for i, (a, b, text, _stretch) in enumerate(anns):
            if fixed and a < fixed[-1][1]:
                a = fixed[-1][1]                   # after the one before on this tier
            nxt = anns[i + 1][0] if i + 1 < len(anns) else None
            if nxt is not None and nxt > a:
                b = min(b, nxt)
            b = max(b, a + 1)
            fixed.append((a, b, text))
        out[tier] = fixed
    end = max([s.duration_ms, 1000] + [b for anns in out.values() for _a, b, _t in anns])
    for tier, texts in loose.items():
        out[tier] = [(0, end, "\n\n".join(texts))]
    return out


def _text(e: Event) -> str:
    if e.kind == "tag":
        return e.text or e.tag_label or e.code
    return e.summary()


def build(bundle: Bundle, s: Session, media: Path | None = None) -> bytes:
    from lxml import etree

    XSI = "http://www.w3.org/2001/XMLSchema-instance"
    root = etree.Element("ANNOTATION_DOCUMENT", nsmap={"xsi": XSI})
    root.set("AUTHOR", "fieldkit")
    root.set("DATE", bundle.created)
    root.set("FORMAT", "3.0")
    root.set("VERSION", "3.0")
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "http://www.mpi.nl/tools/elan/EAFv3.0.xsd")
    header = etree.SubElement(root, "HEADER", MEDIA_FILE="", TIME_UNITS="milliseconds")
    if media is not None:
        from fieldkit.export.audio import MIME

        etree.SubElement(header, "MEDIA_DESCRIPTOR", MEDIA_URL=media.resolve().as_uri(),
                         RELATIVE_MEDIA_URL=f"./{media.name}", MIME_TYPE=MIME)
    prop = etree.SubElement(header, "PROPERTY", NAME="lastUsedAnnotationId")
    time_order = etree.SubElement(root, "TIME_ORDER")
    slots: list[int] = []

    def slot(ms: int) -> str:
        slots.append(int(ms))
        return f"ts{len(slots)}"

    tiers: dict[str, list[tuple[int, int, str]]] = {}
    last_end: dict[str, int] = {}
    for seg in s.segments:
        who = seg.speaker or _("Unknown speaker")
        a, b = seg.start_ms, seg.end_ms
        a = max(a, last_end.get(who, 0))
        b = max(b, a + 1)
        last_end[who] = b
        tiers.setdefault(who, []).append((a, b, " ".join(seg.text(bundle.layer).split())))
    speakers = set(tiers)
    # the researcher whose notes a tier holds (ELAN's ANNOTATOR)
    annotators: dict[str, str] = {}
    for e in s.reading_events():
        author = e.author or "fieldkit"
        if e.kind == "debrief" or e.position_ms is None:
            annotators[_(LOOSE_TIER).format(author=author)] = author
        elif e.kind in NOTE_KINDS:
            annotators[_(NOTES_TIER).format(author=author)] = author
    for tier, anns in event_tiers(s).items():
        if tier in tiers:
            annotators.pop(tier, None)
            tier = _("{tier} (events)").format(tier=tier)
        tiers[tier] = anns

    n = 0
    tier_els = []
    for tier_id, anns in tiers.items():
        t = etree.Element("TIER", TIER_ID=tier_id, LINGUISTIC_TYPE_REF="default-lt")
        if tier_id in speakers:
            t.set("PARTICIPANT", tier_id)
        elif tier_id in annotators:
            t.set("ANNOTATOR", annotators[tier_id])
        for a, b, text in anns:
            n += 1
            ann = etree.SubElement(t, "ANNOTATION")
            al = etree.SubElement(ann, "ALIGNABLE_ANNOTATION", ANNOTATION_ID=f"a{n}",
                                  TIME_SLOT_REF1=slot(a), TIME_SLOT_REF2=slot(b))
            etree.SubElement(al, "ANNOTATION_VALUE").text = text
        tier_els.append(t)
    prop.text = str(n)
    for i, ms in enumerate(slots, start=1):
        etree.SubElement(time_order, "TIME_SLOT", TIME_SLOT_ID=f"ts{i}", TIME_VALUE=str(ms))
    for t in tier_els:
        root.append(t)
    etree.SubElement(root, "LINGUISTIC_TYPE", LINGUISTIC_TYPE_ID="default-lt", TIME_ALIGNABLE="true",
                     GRAPHIC_REFERENCES="false")
    for stereo, desc in (("Time_Subdivision", "Time subdivision of parent annotation's time interval, no time gaps allowed within this interval"),
                         ("Symbolic_Subdivision", "Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered"),
                         ("Symbolic_Association", "1-1 association with a parent annotation"),
                         ("Included_In", "Time alignable annotations within the parent annotation's time interval, gaps are allowed")):
        etree.SubElement(root, "CONSTRAINT", STEREOTYPE=stereo, DESCRIPTION=desc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def plan(bundle: Bundle, out_dir: Path) -> list:
    out = []
    for s in bundle.sessions:
        media = out_dir / f"{s.stem}.wav" if s.audio_path and getattr(bundle, "_handle", None) else None
        if media is not None:
            from fieldkit.export.audio import write_wav

            out.append((media, (lambda f, s=s: write_wav(bundle._handle, _uuid(s.id), f))))
        out.append((out_dir / f"{s.stem}.eaf", (lambda f, s=s, media=media: f.write(build(bundle, s, media)))))
    return out


def _uuid(text: str):  # noqa: ANN202
    import uuid

    return uuid.UUID(text)
