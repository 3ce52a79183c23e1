""""Transcribe this session" (home ``T``, review ``F``): the session joins the queue of
the background final pass (fieldkit.transcription.final), which is started at once and
goes on when the app is left or closed."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from fieldkit.i18n import _

if TYPE_CHECKING:
    from fieldkit.projects import ProjectHandle


def queue_and_start(app, handle: "ProjectHandle", slug: str, session_id: uuid.UUID) -> tuple[str, str]:  # noqa: ANN001
    """(worker thread) Queue the session and start the final-pass process of its project;
    returns (what to tell the researcher, severity)."""
    from fieldkit.transcription import service
    from fieldkit.transcription.final import start_background

    outcome = service.queue_final_pass(handle, session_id)
    if outcome in (service.QUEUED, service.ALREADY_QUEUED):
        if handle.key is None:
            start_background(app.workspace.root, slug)
            return _("Transcribing this session in the background with the project's final model; "
                     "the home screen shows how far it is."), "information"
        return _("Queued. This project is encrypted: run `fieldkit transcribe --all -p {project}` "
                 "to transcribe it.").format(project=slug), "information"
    return {
        service.STILL_RECORDING: (_("Queued: the transcription begins when the recording ends."), "information"),
        service.DONE_ALREADY: (_("This session has a final transcript already (to make it again: "
                                 "`fieldkit transcribe SESSION -p PROJECT`)."), "information"),
        service.HAS_EDITS: (_("The transcript has edits, which transcribing the whole session would "
                              "replace: mark a range with b instead, or run `fieldkit transcribe "
                              "--replace-edited`."), "warning"),
        service.NO_AUDIO: (_("This session has no audio to transcribe."), "warning"),
    }[outcome]
