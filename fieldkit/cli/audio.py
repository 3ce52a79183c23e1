"""``fieldkit import``: an external recording into a session."""

from __future__ import annotations

import click

from fieldkit.cli import workspace
from fieldkit.i18n import _, format_number

#: the session kinds a new recording can be, as typed in English (stored so) and in bokmål
KINDS = ("individual", "pair", "group", "focus_group", "observation", "telephone")
NB_KINDS = {"individuelt": "individual", "par": "pair", "gruppe": "group", "fokusgruppe": "focus_group",
            "observasjon": "observation", "telefon": "telephone"}


class KindChoice(click.Choice):
    """``--kind``: the kinds in the user's language in the help and the errors (bokmål:
    individuelt, par, gruppe, fokusgruppe, observasjon, telefon); the English and the
    Norwegian words are both accepted in every language (a script written in either keeps
    working), and the English one is what the command gets."""

    def __init__(self) -> None:
        super().__init__(KINDS, case_sensitive=False)

    @property
    def choices(self):
        from fieldkit.i18n import language

        return tuple(NB_KINDS) if language() == "nb" else self._english

    @choices.setter
    def choices(self, value) -> None:
        self._english = tuple(value)

    def convert(self, value, param, ctx):
        typed = str(value).strip().casefold().replace("-", "_")
        if typed in self._english:
            return typed
        if typed in NB_KINDS:
            return NB_KINDS[typed]
        self.fail(self.get_invalid_choice_message(value=value, ctx=ctx), param=param, ctx=ctx)


@click.command("import", help=_("Import FILE (wav, mp3, m4a, flac, ogg) into a session, keeping the original."))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--project", "-p", "project_name", required=True)
@click.option("--session", "session_ref", help=_("Session id, id prefix or title."))
@click.option("--title", help=_("Create a new session with this title for the "
                                  "recording."))
@click.option("--kind", default=None,
              type=KindChoice(),
              help=_("The kind of a new session (default: individual, or telephone when the file says it is a "
                     "call: telephone-band sound, 8 kHz or AMR/G.711, or a call word such as call, phone, "
                     "telefon or samtale in its name or title). With --session: change the session's kind."))
@click.option("--lead", metavar="INITIALS", help=_("The researcher who led the interview."))
@click.option("--observer", metavar="INITIALS", help=_("The researcher who observed."))
@click.option("--informant", "informants", metavar="CODE", multiple=True,
              help=_("An informant who took part (repeat for each). A planned session keeps its people; "
                     "these are added."))
@click.option("--recorded-at", "recorded_at", metavar="YYYY-MM-DD[ HH:MM]",
              help=_("When the recording began (local time), when the file does not say or says wrong; "
                     "by default it comes from the file's metadata or its modification time."))
@click.option("--guide", "guide_name", metavar="NAME", help=_("The session's interview guide (its "
                                                               "title or the start of it)."))
@click.pass_context
def import_(ctx: click.Context, file: str, project_name: str, session_ref: str | None,
            title: str | None, kind: str | None, lead: str | None, observer: str | None,
            informants: tuple[str, ...], recorded_at: str | None, guide_name: str | None) -> None:
    from fieldkit.recording.importer import import_recording, kind_from_file
    from fieldkit.sessions.lookup import find_session
    from fieldkit.sessions.plan import add_people
    from fieldkit.store.models import Session, SessionKind, SessionParticipant

    if bool(session_ref) == bool(title):
        raise click.UsageError(_("Give either --session or --title."))
    when = None
    if recorded_at:
        from datetime import datetime

        try:
            when = datetime.fromisoformat(recorded_at.strip()).astimezone()   # local time unless it says
        except ValueError:
            raise click.BadParameter(_("{value} is not a date and time like 2026-03-09 14:05.").format(
                value=repr(recorded_at)), param_hint="--recorded-at") from None
    from sqlmodel import select

    with workspace(ctx).open(project_name) as handle:
        said = None
        version = None
        if guide_name:   # an unknown guide stops the import before anything is stored
            from fieldkit.instruments.guides.store import find_guide_version

            version = find_guide_version(handle.db, handle.project_id, guide_name)
        if session_ref:
            sess = find_session(handle, session_ref)
        else:
            said = None if kind else kind_from_file(file)
            kind = kind or said or "individual"
            sess = Session(project_id=handle.project_id, title=title, kind=SessionKind(kind))
        before = None
        try:
            if title:
                with handle.db.transaction() as s:
                    s.add(sess)
            elif lead or observer or informants or kind:
                from fieldkit.sessions.plan import load_plan

                before = load_plan(handle, sess.id)
            if lead or observer or informants or (kind and session_ref):
                add_people(handle, sess.id, lead=lead, observer=observer, informants=list(informants),
                           kind=kind if session_ref else None)
            rec = import_recording(handle, sess.id, file, recorded_at=when)
            if version is not None:
                from fieldkit.instruments.guides.store import set_session_guide

                set_session_guide(handle.db, sess.id, version)
        except BaseException:
            with handle.db.transaction() as s:
                if title:  # nothing half-made: the new session goes with the failed import
                    for part in s.exec(select(SessionParticipant).where(SessionParticipant.session_id == sess.id)):
                        s.delete(part)
                    s.flush()
                    obj = s.get(Session, sess.id)
                    if obj is not None:
                        s.delete(obj)
                elif before is not None:  # the session's people as they were
                    obj = s.get(Session, sess.id)
                    obj.lead_id, obj.observer_id, obj.kind = before.lead_id, before.observer_id, \
                        SessionKind(before.kind)
                    s.add(obj)
                    from fieldkit.store.models import Informant

                    for part, inf in s.exec(select(SessionParticipant, Informant).join(Informant)
                                            .where(SessionParticipant.session_id == sess.id)):
                        if inf.code not in before.informants:
                            s.delete(part)
            raise
        if not session_ref and said:
            click.echo(_("The file says it is a phone call: the session's kind is telephone "
                         "(--kind changes it)."))
        click.echo(_("Imported {file} into {title!r}: {value} s ({get}, {get2} "
                       "Hz); session id {value2}").format(file=file, title=sess.title, value=format_number(rec.duration_ms / 1000, 1), get=rec.info.get('codec'), get2=rec.info.get('sample_rate'), value2=sess.id.hex[:8]))
        # the recording joins the final pass a recorded interview gets: the app transcribes
        # it by itself, or `fieldkit transcribe --all` does now
        from fieldkit.transcription.service import QUEUED, queue_final_pass

        if queue_final_pass(handle, sess.id) == QUEUED:
            click.echo(_("Queued for transcription: the app transcribes it in the background, or run "
                         "`fieldkit transcribe --all -p {project}` now.").format(project=project_name))
