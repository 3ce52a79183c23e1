"""ELAN annotation files (.eaf, EAF 3.0): a tier per speaker with the transcript
segments, and one tier "Observer events" with notes, tags and guide marks.

ELAN does not allow overlapping annotations on one tier: a segment starting before the
previous one of the same speaker ended is moved to start there; events at the same
millisecond share one annotation, and an event's annotation lasts until the next event
(at most 2 s; a state tag's end is written into its text)."""

from __future__ import annotations

from pathlib import Path

from fieldkit.export.model import Bundle, Session

EVENT_TIER = "Observer events"
POINT_MS = 2000


def build(bundle: Bundle, s: Session) -> bytes:
    from lxml import etree

    XSI = "http://www.w3.org/2001/XMLSchema-instance"
    root = etree.Element("ANNOTATION_DOCUMENT", nsmap={"xsi": XSI})
    root.set("AUTHOR", "fieldkit")
    root.set("DATE", bundle.created)
    root.set("FORMAT", "3.0")
    root.set("VERSION", "3.0")
    root.set(f"{{{XSI}}}noNamespaceSchemaLocation", "http://www.mpi.nl/tools/elan/EAFv3.0.xsd")
    header = etree.SubElement(root, "HEADER", MEDIA_FILE="", TIME_UNITS="milliseconds")
    if s.audio_path:
        uri = Path(s.audio_path).resolve().as_uri()
        etree.SubElement(header, "MEDIA_DESCRIPTOR", MEDIA_URL=uri, MIME_TYPE="audio/x-wav"
                         if s.audio_path.lower().endswith(".wav") else "audio/*")
    prop = etree.SubElement(header, "PROPERTY", NAME="lastUsedAnnotationId")
    time_order = etree.SubElement(root, "TIME_ORDER")
    slots: list[int] = []

    def slot(ms: int) -> str:
        slots.append(int(ms))
        return f"ts{len(slots)}"

    tiers: dict[str, list[tuple[int, int, str]]] = {}
    last_end: dict[str, int] = {}
    for seg in s.segments:
        who = seg.speaker or "Unknown speaker"
        a, b = seg.start_ms, seg.end_ms
        a = max(a, last_end.get(who, 0))
        b = max(b, a + 1)
        last_end[who] = b
        tiers.setdefault(who, []).append((a, b, " ".join(seg.text(bundle.layer).split())))
    groups: dict[int, list[str]] = {}
    for e in s.reading_events():
        if e.position_ms is not None:
            groups.setdefault(e.position_ms, []).append(e.summary())
    ev_ann: list[tuple[int, int, str]] = []
    positions = sorted(groups)
    for i, pos in enumerate(positions):
        nxt = positions[i + 1] if i + 1 < len(positions) else None
        end = pos + POINT_MS if nxt is None else min(pos + POINT_MS, nxt)
        ev_ann.append((pos, end, " | ".join(groups[pos])))

    n = 0
    tier_els = []
    for tier_id, anns in list(tiers.items()) + ([(EVENT_TIER, ev_ann)] if ev_ann else []):
        t = etree.Element("TIER", TIER_ID=tier_id, LINGUISTIC_TYPE_REF="default-lt")
        if tier_id != EVENT_TIER:
            t.set("PARTICIPANT", tier_id)
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
    return [(out_dir / f"{s.stem}.eaf", (lambda f, s=s: f.write(build(bundle, s))))
            for s in bundle.sessions]
