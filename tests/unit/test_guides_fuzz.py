"""Fuzzing the guide parser with hypothesis: any input parses or gives a GuideError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldkit.instruments.guides.parser import GuideError, decode_guide_bytes, parse_guide
from tests.support.builders import GUIDE_TEXT as GUIDE

LINES = GUIDE.splitlines()
PIECES = ["---", "title: X", "## ", "- ", "  - ", "> ", "  + ", "[open]", "[only: leder]", "{#a}",
          "{#a}", "(5 min)", "\t", "###", "1. ", "informant types: leder", "header: a; b", "<!--",
          "språk: nn", "\r", "\x00", "ø", ""]

mutations = st.lists(
    st.tuples(st.integers(0, len(LINES)), st.sampled_from(["drop", "dup", "insert", "indent"]),
              st.sampled_from(PIECES)),
    max_size=6,
)


def _mutate(ops) -> str:  # noqa: ANN001
    lines = list(LINES)
    for pos, op, piece in ops:
        pos = min(pos, len(lines))
        if op == "drop" and lines:
            del lines[min(pos, len(lines) - 1)]
        elif op == "dup" and lines:
            lines.insert(pos, lines[min(pos, len(lines) - 1)])
        elif op == "insert":
            lines.insert(pos, piece + "tekst")
        elif lines:
            i = min(pos, len(lines) - 1)
            lines[i] = "  " + lines[i]
    return "\n".join(lines)


def _check(text: str) -> None:
    try:
        g = parse_guide(text, "fuzz.md")
    except GuideError as err:
        assert err.message.startswith("fuzz.md")
        return
    ids = [i for i, *_ in g.iter_items()]
    assert g.themes and all(t.questions for t in g.themes)
    assert len(ids) == len(set(ids)) and all(ids)


def test_fuzz_parser(capsys):
    counts = {"text": 0, "mutated": 0, "bytes": 0}

    @settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(alphabet=st.sampled_from("-#>+ \n\t{}[]():abcæø---title:"), max_size=300))
    def random_text(text: str) -> None:
        counts["text"] += 1
        _check(text)

    @settings(max_examples=1500, deadline=None)
    @given(mutations)
    def mutated(ops) -> None:  # noqa: ANN001
        counts["mutated"] += 1
        _check(_mutate(ops))

    @settings(max_examples=1000, deadline=None)
    @given(st.binary(max_size=400))
    def raw_bytes(data: bytes) -> None:
        counts["bytes"] += 1
        try:
            _check(decode_guide_bytes(data, "fuzz.md"))
        except GuideError:
            pass

    random_text()
    mutated()
    raw_bytes()
    total = sum(counts.values())
    with capsys.disabled():
        print(f"\nguide parser fuzz: {total} cases ({counts})")
    assert counts["mutated"] >= 1000 and counts["text"] >= 1000
