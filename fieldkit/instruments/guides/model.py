"""A parsed interview guide: Themes with Questions, Probes, instructions and examples.

The outline stored in ``GuideVersion.outline`` (and read by the workspace, coverage and
export code) is ``Guide.to_outline()``::

    {
      "title": str, "language": str, "informant_types": [str], "header": [str],
      "intro": str,
      "themes": [
        {"id": str, "title": str, "minutes": int | None, "open": bool,
         "instructions": [str],
         "questions": [
           {"id": str, "text": str, "instructions": [str], "examples": [str],
            "only_for": [str],                    # informant types; [] = everyone
            "probes": [{"id": str, "text": str}]}
         ]}
      ],
      "retired": [{"id": str, "kind": "theme"|"question"|"probe", "text": str,
                   "theme_id": str | None}]       # items of earlier versions now deleted
    }

Ids are stable across versions of the same guide (see fieldkit.instruments.guides.identity).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterator


@dataclass
class Probe:
    id: str
    text: str
    line: int = 0


@dataclass
class Question:
    id: str
    text: str
    instructions: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    only_for: list[str] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    line: int = 0

    def applies_to(self, informant_type: str | None) -> bool:
        return not self.only_for or informant_type is None or informant_type in self.only_for


@dataclass
class Theme:
    id: str
    title: str
    minutes: int | None = None
    open: bool = False
    instructions: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    line: int = 0


@dataclass
class Retired:
    id: str
    kind: str
    text: str
    theme_id: str | None = None


@dataclass
class Guide:
    title: str
    language: str = "no"
    informant_types: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    intro: str = ""
    themes: list[Theme] = field(default_factory=list)
    retired: list[Retired] = field(default_factory=list)

    # ------------------------------------------------------------------ walking

    def iter_questions(self) -> Iterator[tuple[Theme, Question]]:
        for theme in self.themes:
            for q in theme.questions:
                yield theme, q

    def iter_items(self) -> Iterator[tuple[str, str, str, str | None]]:
        """(id, kind, text, parent id) for every theme, question and probe."""
        for theme in self.themes:
            yield theme.id, "theme", theme.title, None
            for q in theme.questions:
                yield q.id, "question", q.text, theme.id
                for p in q.probes:
                    yield p.id, "probe", p.text, q.id

    def find(self, item_id: str) -> Theme | Question | Probe | Retired | None:
        for theme in self.themes:
            if theme.id == item_id:
                return theme
            for q in theme.questions:
                if q.id == item_id:
                    return q
                for p in q.probes:
                    if p.id == item_id:
                        return p
        return next((r for r in self.retired if r.id == item_id), None)

    def theme_of(self, item_id: str) -> Theme | None:
        """The theme an item (theme, question or probe id) belongs to."""
        for theme in self.themes:
            if theme.id == item_id:
                return theme
            for q in theme.questions:
                if q.id == item_id or any(p.id == item_id for p in q.probes):
                    return theme
        return None

    def label(self, item_id: str) -> str:
        item = self.find(item_id)
        if item is None:
            return item_id
        return getattr(item, "title", None) or getattr(item, "text", item_id)

    # ------------------------------------------------------------------ outline

    def to_outline(self) -> dict[str, Any]:
        def strip(d: Any) -> Any:
            if isinstance(d, dict):
                return {k: strip(v) for k, v in d.items() if k != "line"}
            if isinstance(d, list):
                return [strip(v) for v in d]
            return d

        return strip(asdict(self))

    @classmethod
    def from_outline(cls, data: dict[str, Any]) -> "Guide":
        themes = [
            Theme(
                id=t["id"], title=t["title"], minutes=t.get("minutes"), open=t.get("open", False),
                instructions=list(t.get("instructions", [])),
                questions=[
                    Question(
                        id=q["id"], text=q["text"], instructions=list(q.get("instructions", [])),
                        examples=list(q.get("examples", [])), only_for=list(q.get("only_for", [])),
                        probes=[Probe(id=p["id"], text=p["text"]) for p in q.get("probes", [])],
                    )
                    for q in t.get("questions", [])
                ],
            )
            for t in data.get("themes", [])
        ]
        return cls(
            title=data["title"], language=data.get("language", "no"),
            informant_types=list(data.get("informant_types", [])),
            header=list(data.get("header", [])), intro=data.get("intro", ""), themes=themes,
            retired=[Retired(**r) for r in data.get("retired", [])],
        )
