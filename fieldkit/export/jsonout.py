"""JSON of everything in the export bundle, for scripts."""

from __future__ import annotations

import json
from pathlib import Path

from fieldkit.export.model import Bundle

SCHEMA = "fieldkit-export/1"


def render(bundle: Bundle) -> str:
    data = {"schema": SCHEMA, **bundle.to_dict()}
    if bundle.mode in ("role", "nn"):
        # the warnings name informants by code, for the researcher's screen; role and NN
        # exports carry no codes
        data.pop("warnings", None)
    for s in data["sessions"]:
        s["researchers"] = [{"label": a, "function": b} for a, b in s["researchers"]]
    return json.dumps(data, ensure_ascii=False, indent=1)


def plan(bundle: Bundle, out_dir: Path) -> list:
    from fieldkit.export.tables import _slug

    return [(out_dir / f"{_slug(bundle)}.json", lambda f: f.write(render(bundle).encode("utf-8")))]
