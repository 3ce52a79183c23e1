"""Session setup: kind, guide, informants (or a new one on the spot), lead and observer,
place, the guide's header fields, the consent check per participant, and a microphone
test. The plan can be kept for later or the interview started. Recording cannot
start while a participant has not consented to it: the interview can still be held
with notes only."""

from __future__ import annotations

import uuid
from datetime import datetime

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Footer, Label, Select, SelectionList, Static

from fieldkit.i18n import N_, _
from fieldkit.tui.widgets.inputs import Input
from fieldkit.instruments.tags import default_scheme_names
from fieldkit.tui.commands import SHELL_KEYS
from fieldkit.tui.screens.base import ProjectScreen
from fieldkit.tui.widgets.live import meter
from fieldkit.tui.widgets.model_advice import ModelAdvice

KINDS = [(N_("Individual interview"), "individual"), (N_("Pair interview"), "pair"), (N_("Group interview"), "group"),
         (N_("Focus group"), "focus_group"), (N_("Observation"), "observation"),
         (N_("Telephone interview"), "telephone"), (N_("Notes only (no recording)"), "notes_only")]


class ConsentRow(Horizontal):
    """Information letter, written consent and recording consent for one participant."""

    def __init__(self, code: str, detail: str, letter: bool, written: bool, recording: bool = False) -> None:
        super().__init__(classes="consent-row")
        self.code = code
        self.detail = detail
        self._letter, self._written, self._recording = letter, written, recording

    def compose(self) -> ComposeResult:
        yield Label(f"{self.code}", classes="consent-code")
        yield Checkbox(_("Information letter"), self._letter, classes="c-letter")
        yield Checkbox(_("Written consent"), self._written, classes="c-written")
        yield Checkbox(_("May we record?"), self._recording, classes="c-recording")

    def answer(self):
        from fieldkit.sessions.consent import ConsentTicks

        if not self.query(".c-recording"):   # not composed yet: what it was made with
            return ConsentTicks(self._letter, self._written, self._recording)
        return ConsentTicks(self.query_one(".c-letter", Checkbox).value,
                            self.query_one(".c-written", Checkbox).value,
                            self.query_one(".c-recording", Checkbox).value)


class SetupScreen(ProjectScreen[None]):
    BINDINGS = [
        *SHELL_KEYS,
        Binding("ctrl+r", "start", N_("Start interview"), id="setup.start", tooltip=N_("start the interview (recording needs everyone's recording consent)")),
        Binding("ctrl+s", "save", N_("Save"), id="setup.save", tooltip=N_("keep what is on screen (in setup: the plan for later, consent ticks and date included)")),
        # priority: a text box's own Ctrl+A (start of line) must not swallow it
        Binding("ctrl+a", "add_informant", N_("New informant"), priority=True, id="setup.add_informant", tooltip=N_("a new informant on the spot; they are chosen at once")),
        Binding("ctrl+n", "add_researcher", N_("New researcher"), id="setup.add_researcher", tooltip=N_("a new researcher on the spot; they take the empty lead or observer seat")),
        Binding("ctrl+t", "test_microphone", N_("Mic test"), id="setup.test_microphone", tooltip=N_("a 3-second level test of the chosen microphone")),
        Binding("escape", "cancel", N_("Back"), id="setup.cancel", tooltip=N_("back to the previous screen")),
    ]

    class Loaded(Message):
        def __init__(self, choices, plan, devices, models) -> None:
            super().__init__()
            self.choices, self.plan, self.devices, self.models = choices, plan, devices, models

    class Level(Message):
        def __init__(self, db: float | None, text: str = "") -> None:
            super().__init__()
            self.db, self.text = db, text

    def __init__(self, slug: str, session_id: uuid.UUID | str | None = None) -> None:
        super().__init__(slug, session_id)
        self.choices = None
        self.header_inputs: dict[str, Input] = {}
        self.consent_rows: dict[str, ConsentRow] = {}
        self.given: dict[str, bool | None] = {}
        self.chosen: set[str] = set()      # informant codes chosen (also those the search hides)
        self.chose_order: list[str] = []   # the order they were chosen in: their seat numbers
        self._filling = False
        self._pristine: tuple | None = None  # the form as loaded: Esc asks before throwing changes away
        self.planned = None                 # the plan's date and time, as stored
        self.missing: list = []             # consent still missing after the last save
        self.details: dict[str, str] = {}   # informant code -> role, organisation, site, group, consent
        self.follow_options: list = []      # sessions this one can follow (today's first)
        self._kind_seen: str | None = None  # the kind as loaded (choosing another proposes defaults)
        self._follows_seen = None

    def compose(self) -> ComposeResult:
        yield Label(_("New session") if self.session_id is None else _("Session setup"), id="setup-title",
                    classes="pane-title")
        with VerticalScroll(id="setup-form"):
            with Horizontal(classes="field"):
                yield Label(_("Title"), classes="field-label")
                yield Input(id="title", placeholder=_("e.g. Interview L03"))
            with Horizontal(classes="field"):
                yield Label(_("Kind"), classes="field-label")
                yield Select([(_(label), value) for label, value in KINDS], value="individual",
                             allow_blank=False, id="kind")
            with Horizontal(classes="field"):
                yield Label(_("Follows"), classes="field-label")
                yield Select([], id="follows", prompt=_("(follows no session)"))
            with Horizontal(classes="field"):
                yield Label(_("Guide"), classes="field-label")
                yield Select([], id="guide", prompt=_("(no guide)"))
            with Horizontal(classes="field"):
                yield Label(_("Tag scheme"), classes="field-label")
                yield Select([], id="scheme", prompt=_("(none)"))
            with Horizontal(classes="field"):
                yield Label(_("Lead"), classes="field-label")
                yield Select([], id="lead", prompt=_("(who leads? Ctrl+N adds a researcher)"))
            with Horizontal(classes="field"):
                yield Label(_("Observer"), classes="field-label")
                yield Select([], id="observer", prompt=_("(who observes?)"))
            with Horizontal(classes="field"):
                yield Label(_("When"), classes="field-label")
                yield Input(id="when", placeholder=_("date and time, e.g. 2026-03-04 10:00"))
            with Horizontal(classes="field"):
                yield Label(_("Place"), classes="field-label")
                yield Input(id="place", placeholder=_("where (kept in the project, pseudonymised on export)"))
            yield Checkbox(_("Pilot interview (kept out of the dataset)"), id="pilot")
            yield Label(_("Informants (Ctrl+A adds a new one)"), classes="section-title", id="informants-title")
            with Horizontal(id="informant-tools"):
                yield Input(id="informant-search", placeholder=_("search code, role, organisation, site…"))
                yield Checkbox(_("All shown"), id="select-all")
            yield SelectionList[str](id="informants")
            yield Label(_("Consent, asked now"), classes="section-title")
            yield Vertical(id="consent")
            yield Label(_("Header fields from the guide"), classes="section-title")
            yield Vertical(id="header-fields")
            yield Label(_("Recording"), classes="section-title")
            with Horizontal(classes="field"):
                yield Label(_("Microphone"), classes="field-label")
                yield Select([], id="device", prompt=_("(system default)"))
            with Horizontal(id="mic-row"):
                yield Button(_("Test microphone (Ctrl+T)"), id="test-mic")
                yield Static(_("(a 3-second level test)"), id="mic-level")
            yield Checkbox(_("Live transcript while recording"), id="live")
            yield ModelAdvice(id="model-advice")
            yield Static("", id="setup-problems")
            with Horizontal(id="setup-buttons"):
                yield Button(_("Start interview (Ctrl+R)"), id="start", variant="success")
                yield Button(_("Save for later (Ctrl+S)"), id="save")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()
        self.load()

    @work(thread=True, exclusive=True, group="setup-load", exit_on_error=False)
    def load(self) -> None:
        from fieldkit.sessions.plan import planned_at
        from fieldkit.sessions.consent import session_consents
        from fieldkit.sessions.plan import load_plan, setup_choices

        from fieldkit.sessions.linked import follow_candidates

        choices = setup_choices(self.handle)
        self.follow_options = [(_("{title} ({kind})").format(title=r.title, kind=_kind_label(r.kind)), r.id)
                               for r in follow_candidates(self.handle, exclude=self.session_id)]
        self.details = _informant_details(self.handle)
        plan = load_plan(self.handle, self.session_id) if self.session_id else None
        self.given = session_consents(self.handle, self.session_id) if self.session_id else {}
        self.planned = planned_at(self.handle, self.session_id) if self.session_id else None
        self.post_message(self.Loaded(choices, plan, _input_devices(), _has_model()))

    def on_setup_screen_loaded(self, message: Loaded) -> None:
        c = self.choices = message.choices
        self.query_one("#guide", Select).set_options([(g.label, g.version_id) for g in c.guides])
        self.query_one("#scheme", Select).set_options([(name, sid) for sid, name in c.schemes])
        people = [(f"{r.label} — {r.detail}", r.id) for r in c.researchers]
        self.query_one("#lead", Select).set_options(people)
        self.query_one("#observer", Select).set_options(people)
        self.query_one("#device", Select).set_options(message.devices)
        self.query_one("#follows", Select).set_options(self.follow_options)
        plan = message.plan
        self._kind_seen = plan.kind if plan else "individual"
        self._follows_seen = plan.follows_id if plan else None
        if plan is not None and plan.follows_id is not None:
            self.query_one("#follows", Select).value = plan.follows_id
        self.chosen = set(plan.informants) if plan else set()
        self.chose_order = list(plan.informants) if plan else []   # seat order as stored
        self._fill_informants()
        def fill(widget: str, value: str) -> None:
            """What the form starts with, unless the researcher typed there while it loaded."""
            box = self.query_one(widget, Input)
            if not box.value:
                box.value = value

        if plan is None:
            fill("#title", _("Interview {when}").format(when=f"{datetime.now():%Y-%m-%d %H:%M}"))
            if c.guides:
                self.query_one("#guide", Select).value = c.guides[0].version_id
            interview = next((sid for sid, name in c.schemes if name in default_scheme_names()), None)
            if interview or c.schemes:
                self.query_one("#scheme", Select).value = interview or c.schemes[0][0]
            if len(c.researchers) >= 2:
                self.query_one("#lead", Select).value = c.researchers[0].id
                self.query_one("#observer", Select).value = c.researchers[1].id
        else:
            fill("#title", plan.title)
            self.query_one("#kind", Select).value = plan.kind
            interview = next((sid for sid, name in c.schemes if name in default_scheme_names()), None)
            for widget, value in (("#guide", plan.guide_version_id),
                                  ("#scheme", plan.tag_scheme_id or interview or (c.schemes[0][0] if c.schemes else None)),
                                  ("#lead", plan.lead_id), ("#observer", plan.observer_id)):
                if value is not None:
                    self.query_one(widget, Select).value = value
            fill("#place", plan.place)
            self.query_one("#pilot", Checkbox).value = plan.is_pilot
            from fieldkit.sessions.plan import format_when

            fill("#when", format_when(getattr(self, "planned", None)))
        self.query_one("#live", Checkbox).value = message.models
        if not message.models:
            self.query_one("#live", Checkbox).label = _("Live transcript (no model on this laptop: "
                                                        "`fieldkit models prepare`)")
        self._build_header(plan.header if plan else {})
        self._build_consent()
        self.call_after_refresh(self._remember_pristine)

    def _remember_pristine(self) -> None:
        self._pristine = self._snapshot()

    def _snapshot(self) -> tuple:
        """Everything the form holds, to tell whether Esc would throw something away."""
        def val(widget: str):
            select = self.query_one(widget, Select)
            return None if select.is_blank() else select.value

        return (tuple(self.query_one(f"#{w}", Input).value for w in ("title", "when", "place")),
                tuple(val(w) for w in ("#kind", "#follows", "#guide", "#scheme", "#lead", "#observer")),
                self.query_one("#pilot", Checkbox).value, tuple(sorted(self.chosen)),
                tuple(sorted((k, i.value) for k, i in self.header_inputs.items())),
                tuple(sorted((code, tuple(vars(row.answer()).values())) for code, row in self.consent_rows.items())))

    def _fill_informants(self, select: str | None = None) -> None:
        """The informant list, filtered by the search; choices the search hides are kept."""
        sel = self.query_one("#informants", SelectionList)
        if select:
            self.chosen.add(select)
        words = " ".join(self.query_one("#informant-search", Input).value.lower().split())
        self._filling = True
        try:
            sel.clear_options()
            shown = 0
            for inf in self.choices.informants:
                if inf.withdrawn:
                    continue
                text = f"{inf.label}  {self.details.get(inf.label, inf.detail)}"
                if words and words not in " ".join(text.lower().split()):
                    continue
                sel.add_option((text, inf.label, inf.label in self.chosen))
                shown += 1
        finally:
            self._filling = False
        self._informants_summary()

    def _informants_summary(self) -> None:
        sel = self.query_one("#informants", SelectionList)
        shown = sel.option_count
        words = self.query_one("#informant-search", Input).value.strip()
        total = sum(1 for i in self.choices.informants if not i.withdrawn)
        self.query_one("#informants-title", Label).update(
            _("Informants: {n} chosen of {total}").format(n=len(self.chosen), total=total)
            + (" " + _("({n} shown)").format(n=shown) if words else "") + " — " + _("Ctrl+A adds a new one"))
        box = self.query_one("#select-all", Checkbox)
        shown_codes = {sel.get_option_at_index(i).value for i in range(sel.option_count)}
        with box.prevent(Checkbox.Changed):
            box.value = bool(shown_codes) and shown_codes <= self.chosen

    @on(Input.Changed, "#informant-search")
    def _search_informants(self) -> None:
        if self.choices is not None:
            self._fill_informants()

    @on(Input.Submitted, "#informant-search")
    def _search_done(self) -> None:
        self.query_one("#informants", SelectionList).focus()

    @on(Checkbox.Changed, "#select-all")
    def _select_all(self, event: Checkbox.Changed) -> None:
        if self.choices is None:
            return
        sel = self.query_one("#informants", SelectionList)
        shown = {sel.get_option_at_index(i).value for i in range(sel.option_count)}
        self.chosen = self.chosen | shown if event.value else self.chosen - shown
        self._fill_informants()
        self._build_consent()

    # ------------------------------------------------------------------ dynamic parts

    @on(Select.Changed, "#kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        """Choosing Observation proposes the project's observation guide and the
        meeting-observation tag scheme."""
        if self.choices is None or event.value == self._kind_seen:
            return
        self._kind_seen = event.value
        if event.value != "observation":
            return
        from fieldkit.sessions.linked import observation_defaults

        guide, scheme = observation_defaults(self.choices)
        if guide is not None:
            self.query_one("#guide", Select).value = guide
        if scheme is not None:
            self.query_one("#scheme", Select).value = scheme

    @on(Select.Changed, "#follows")
    def _follows_changed(self, event: Select.Changed) -> None:
        """Following a session carries its participants over (an observed meeting, then
        the group interview of the same people)."""
        value = None if event.select.is_blank() else event.value
        if self.choices is None or value == self._follows_seen:
            return
        self._follows_seen = value
        if value is not None:
            self._carry(value)

    @work(thread=True, group="setup-carry", exit_on_error=False)
    def _carry(self, follows_id) -> None:
        from fieldkit.sessions.linked import carried_participants

        codes = carried_participants(self.handle, follows_id)
        self.app.call_from_thread(self._carried, codes)

    def _carried(self, codes: list[str]) -> None:
        new = [c for c in codes if c not in self.chosen]
        self.chose_order += [c for c in codes if c not in self.chose_order]   # the same seats
        self.chosen |= set(codes)
        self._fill_informants()
        self._build_consent()
        self._follow_header()
        if new:
            self.notify(_("Participants carried over: {codes}.").format(codes=", ".join(new)), timeout=4)

    @on(Select.Changed, "#guide")
    def _guide_changed(self, event: Select.Changed) -> None:
        if self.choices is not None:
            self._build_header({k: i.value for k, i in self.header_inputs.items()})

    def _build_header(self, values: dict[str, str]) -> None:
        box = self.query_one("#header-fields", Vertical)
        box.remove_children()
        self.header_inputs = {}
        version = self.query_one("#guide", Select).value
        guide = next((g for g in self.choices.guides if g.version_id == version), None)
        if guide is None or not guide.header:
            box.mount(Static(_("(the guide has no header fields)"), classes="muted"))
            return
        rows = []
        # the labels are the guide's own words ("Organisasjoner", "Annen informasjon"):
        # as wide as the longest, so none is cut off
        width = max(14, min(32, 2 + max(len(name) for name in guide.header)))
        self._derived = derived = self._header_defaults(guide.header)
        for name in guide.header:
            # filled from what setup asks (names, place and date, informants); still editable,
            # and a value the researcher typed (or stored before) wins
            inp = Input(values.get(name) or derived.get(name, ""), placeholder=name, classes="header-input")
            self.header_inputs[name] = inp
            label = Label(name, classes="field-label header-label")
            label.styles.width = width
            rows.append(Horizontal(label, inp, classes="field"))
        box.mount_all(rows)

    def _header_defaults(self, fields: list[str]) -> dict[str, str]:
        """The header values the session gives: the lead's and observer's names, place and
        date, the informants' codes, roles and organisations (fieldkit.sessions.plan)."""
        from fieldkit.errors import FieldkitError
        from fieldkit.sessions.plan import derived_header, parse_when, plan_facts

        try:
            when = parse_when(self.query_one("#when", Input).value)
        except FieldkitError:
            when = None
        return derived_header(fields, plan_facts(self.handle, self._plan(), when))

    @on(Select.Changed, "#lead")
    @on(Select.Changed, "#observer")
    @on(Input.Changed, "#place")
    @on(Input.Changed, "#when")
    def _header_facts_changed(self) -> None:
        self._follow_header()

    def _follow_header(self) -> None:
        """Header fields still holding what was derived (or empty) follow the form."""
        if self.choices is None or not self.header_inputs:
            return
        old = getattr(self, "_derived", {})
        new = self._header_defaults(list(self.header_inputs))
        for name, inp in self.header_inputs.items():
            if inp.value in ("", old.get(name, "")) and inp.value != new.get(name, ""):
                inp.value = new.get(name, "")
        self._derived = new

    @on(events.DescendantFocus)
    def _focus_lands(self, event: events.DescendantFocus) -> None:
        """Tab or Shift+Tab into the informant list: a row is highlighted at once (Space
        then chooses it), as the list shows no cursor otherwise."""
        sel = event.widget
        if isinstance(sel, SelectionList) and sel.id == "informants" and sel.highlighted is None and sel.option_count:
            sel.highlighted = 0

    @on(SelectionList.SelectedChanged, "#informants")
    def _informants_changed(self) -> None:
        if self.choices is None or self._filling:
            return
        sel = self.query_one("#informants", SelectionList)
        shown = {sel.get_option_at_index(i).value for i in range(sel.option_count)}
        chosen = (self.chosen - shown) | set(sel.selected)
        if chosen == self.chosen:
            return   # the list was refilled (search): nothing chosen or unchosen
        self.chose_order = [c for c in self.chose_order if c in chosen]
        self.chose_order += [c for c in sel.selected if c in chosen and c not in self.chose_order]
        self.chosen = chosen
        self._informants_summary()
        self._build_consent()
        self._follow_header()

    def _build_consent(self) -> None:
        box = self.query_one("#consent", Vertical)
        chosen = sorted(self.chosen)
        kept = {code: row for code, row in self.consent_rows.items() if code in chosen}
        for code, row in list(self.consent_rows.items()):
            if code not in chosen:
                row.remove()
        self.consent_rows = kept
        by_code = {i.label: i for i in self.choices.informants}
        for code in chosen:
            if code not in self.consent_rows:
                inf = by_code[code]
                row = ConsentRow(code, inf.detail, inf.letter is not None, inf.written is not None,
                                 self.given.get(code) is True)
                self.consent_rows[code] = row
                box.mount(row)
        for widget in box.query(".muted"):
            widget.remove()
        if not chosen:
            box.mount(Static(_("(choose the informants first)"), classes="muted"))

    # ------------------------------------------------------------------ informants

    def action_add_informant(self) -> None:
        try:
            from fieldkit.tui.screens.informant_form import InformantForm
        except ImportError:  # pragma: no cover - the form ships with the informants screen
            self.notify(_("Add informants with `fieldkit informant add`."), severity="warning")
            return

        def added(code: str | None) -> None:
            if code:
                self._reload_informants(code)

        self.app.push_screen(InformantForm(self.handle), added)

    @work(thread=True, group="setup-informants", exit_on_error=False)
    def _reload_informants(self, code: str) -> None:
        from fieldkit.sessions.plan import setup_choices

        choices = setup_choices(self.handle)
        self.details = _informant_details(self.handle)
        self.app.call_from_thread(self._informants_reloaded, choices, code)

    def _informants_reloaded(self, choices, code: str) -> None:
        self.choices.informants = choices.informants
        self._fill_informants(select=code)
        self._build_consent()

    # ------------------------------------------------------------------ researchers

    def action_add_researcher(self) -> None:
        from fieldkit.tui.screens.team import ResearcherForm

        def added(rid) -> None:
            if rid:
                self._reload_researchers(rid)

        self.app.push_screen(ResearcherForm(self.handle), added)

    @work(thread=True, group="setup-researchers", exit_on_error=False)
    def _reload_researchers(self, rid) -> None:
        from fieldkit.sessions.plan import setup_choices

        choices = setup_choices(self.handle)
        self.app.call_from_thread(self._researchers_reloaded, choices, rid)

    def _researchers_reloaded(self, choices, rid) -> None:
        """The new researcher is offered at once, and takes the lead or observer seat
        that is still empty."""
        self.choices.researchers = choices.researchers
        people = [(f"{r.label} — {r.detail}", r.id) for r in choices.researchers]
        for widget in ("#lead", "#observer"):
            select = self.query_one(widget, Select)
            keep = None if select.is_blank() else select.value
            select.set_options(people)
            if keep is not None:
                select.value = keep
        for widget in ("#lead", "#observer"):
            select = self.query_one(widget, Select)
            if select.is_blank():
                select.value = rid
                break
        name = next((r.label for r in choices.researchers if r.id == rid), "")
        self.notify(_("Researcher {name} added.").format(name=name), timeout=3)

    # ------------------------------------------------------------------ microphone

    @on(Button.Pressed, "#test-mic")
    def action_test_microphone(self) -> None:
        self.query_one("#mic-row").scroll_visible()   # the meter is seen, wherever the form was
        self.query_one("#mic-level", Static).update(_("listening…"))
        self.test_microphone(self._device())

    def _device(self) -> str | int | None:
        """The chosen microphone; unchosen, $FIELDKIT_DEVICE or the system default."""
        import os

        select = self.query_one("#device", Select)
        value = select.value
        if select.is_blank():
            env = os.environ.get("FIELDKIT_DEVICE") or None
            return int(env) if env and env.isdigit() else env
        return value

    @work(thread=True, exclusive=True, group="setup-mic", exit_on_error=False)
    def test_microphone(self, device: str | int | None) -> None:
        from fieldkit.errors import FieldkitError
        from fieldkit.recording.mictest import test_microphone

        try:
            result = test_microphone(device, on_level=lambda db: self.post_message(self.Level(db)))
        except FieldkitError as exc:
            self.post_message(self.Level(None, exc.message))
            return
        self.post_message(self.Level(result.db, _("peak {db} dBFS — {verdict}").format(
            db=f"{result.db:.0f}", verdict=result.verdict)))

    def on_setup_screen_level(self, message: Level) -> None:
        from rich.text import Text

        out = Text()
        if message.db is not None:
            out.append_text(meter(message.db, 20))
            out.append(f" {message.db:5.0f} dB  ")
        out.append(message.text, style="bold red" if message.db is None else "")
        self.query_one("#mic-level", Static).update(out)

    # ------------------------------------------------------------------ save / start

    def _plan(self):
        from fieldkit.sessions.plan import SessionPlan

        def val(widget: str):
            select = self.query_one(widget, Select)
            return None if select.is_blank() else select.value

        return SessionPlan(
            title=self.query_one("#title", Input).value, kind=val("#kind") or "individual",
            guide_version_id=val("#guide"), tag_scheme_id=val("#scheme"), lead_id=val("#lead"),
            observer_id=val("#observer"), place=self.query_one("#place", Input).value,
            header={k: i.value for k, i in self.header_inputs.items()},
            informants=[c for c in self.chose_order if c in self.chosen]
            + sorted(self.chosen - set(self.chose_order)),
            is_pilot=self.query_one("#pilot", Checkbox).value, follows_id=val("#follows"))

    def _problem(self, text: str) -> None:
        widget = self.query_one("#setup-problems", Static)
        widget.update(text)
        widget.set_class(bool(text), "problem")
        if text:
            self.notify(text, severity="error", timeout=10)
            widget.scroll_visible()

    def _save(self, starting: bool = False) -> uuid.UUID | None:
        """Keep the plan, its date and time, and the consent ticks as they are on screen."""
        from fieldkit.errors import FieldkitError
        from fieldkit.sessions.plan import parse_when, save_setup

        if self.choices is None:
            self.notify(_("Still reading the project: try again in a moment."), severity="warning", timeout=3)
            return None
        plan = self._plan()
        try:
            when = parse_when(self.query_one("#when", Input).value)
            self.session_id, self.missing = save_setup(
                self.handle, plan, self.session_id, when=when,
                consents={code: row.answer() for code, row in self.consent_rows.items()},
                author_id=plan.lead_id, asked=starting)
        except FieldkitError as exc:
            self._problem(exc.message)
            return None
        self._pristine = self._snapshot()
        return self.session_id

    def action_save(self) -> None:
        if self._save() is not None:
            self.notify(_("Session saved for later."), timeout=3)
            self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#start")
    def _start_pressed(self) -> None:
        self.action_start()

    def action_start(self) -> None:
        plan = self._plan()
        # saved as a plan first: an unticked "may we record?" becomes a "no" only when the
        # interview really starts (Notes only), not when Back goes to tick it
        if self._save() is None:
            return
        problems = self.missing
        blocking = [p.text for p in problems if p.blocks_recording]
        warnings = [p.text for p in problems if not p.blocks_recording]
        wants_audio = plan.kind != "notes_only"
        if warnings:
            self.notify("\n".join(warnings), title=_("Consent"), severity="warning", timeout=10)
        if wants_audio and blocking:
            from fieldkit.tui.screens.confirm import ConfirmScreen

            self._problem(_("Recording cannot start: {why}.").format(why="; ".join(blocking)))

            def notes_only(ok: bool | None) -> None:
                if ok and self._save(starting=True) is not None:
                    self._begin(record=False)

            self.app.push_screen(ConfirmScreen(
                _("Recording cannot start:") + "\n" + "\n".join(f"  • {b}" for b in blocking)
                + "\n\n" + _("Hold the interview with notes only?"), yes=_("Notes only"), no=_("Back")),
                notes_only)
            return
        if self._save(starting=True) is not None:
            self._begin(record=wants_audio)

    def _begin(self, record: bool) -> None:
        from fieldkit.tui.screens.interview import InterviewScreen

        self.app.switch_screen(InterviewScreen(
            self.slug, self.session_id, record=record, device=self._device(),
            live=record and self.query_one("#live", Checkbox).value))

    def action_cancel(self) -> None:
        """Esc: back, but a form with changes asks before throwing them away."""
        if self._pristine is None or self._snapshot() == self._pristine:
            self.dismiss(None)
            return
        from fieldkit.tui.screens.confirm import ConfirmScreen

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(
            _("Leave without saving?\n\nWhat you filled in here is thrown away. "
              "Ctrl+S keeps it as a plan for later."), yes=_("Throw away"), no=_("Keep editing")), answer)


def _kind_label(kind: str) -> str:
    return next((_(label) for label, value in KINDS if value == kind), kind)


def _informant_details(handle) -> dict[str, str]:
    """What the informant list shows and searches: role, organisation, site (case
    network), group and consent state."""
    from fieldkit.people.informants import informant_rows

    return {r.code: " · ".join(x for x in (r.role, r.organisation, r.site, r.group, r.consent) if x)
            for r in informant_rows(handle)}


def _input_devices() -> list[tuple[str, str | int]]:
    try:
        import sounddevice as sd

        return [(f"{i}: {d['name']}", i) for i, d in enumerate(sd.query_devices())
                if d["max_input_channels"] > 0]
    except Exception:  # noqa: BLE001 - no PortAudio, no devices: the default is still offered
        return []


def _has_model() -> bool:
    try:
        from fieldkit.transcription.models import available_models

        return bool(available_models())
    except Exception:  # noqa: BLE001
        return False
