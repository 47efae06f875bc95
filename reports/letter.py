"""The recall letter to the follow-up clinic or to the family: the action and its deadline
first (``ACT TODAY`` for a time-critical case; the booked appointment, when there is one, is
the deadline), then the baby and the card, the suspected
disorders in plain words, the values against their cutoffs, what to do and whom to contact.

The texts come from the wording data of the letter's language (``reports/data/wording``), per
disorder group and audience.

Public names: ``SuspectedDisorder``, ``ReferralClinic``, ``RecallLetter``,
``render_recall_letter``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import Field, model_validator
from reportlab.platypus import Flowable, KeepTogether, Spacer

from reports.blocks import (
    identity_pairs,
    marker_cutoff,
    marker_finding,
    marker_value,
    sources_line,
)
from reports.models import (
    Baby,
    Contact,
    DisorderRow,
    DocumentInfo,
    Laboratory,
    MarkerValue,
    Specimen,
    ViewModel,
)
from reports.pdf.page import COLOURS, MARGIN, PageSetup, Styles, page_size, para, render, styles
from reports.pdf.tables import banner, bullets, correction_box, data_table, info_table
from reports.wording import GroupText, Wording, fill, wording_for

__all__ = ["RecallLetter", "ReferralClinic", "SuspectedDisorder", "render_recall_letter"]


class SuspectedDisorder(DisorderRow):
    """A disorder the screen points to, with the markers that point to it."""

    #: ``suspected``: the case suspects it but the screen did not flag it (opened by hand),
    #: or the card's result awaits review (``RecallLetter.result_pending``: no markers then).
    first_tier: Literal["borderline", "positive", "critical", "suspected"]
    markers: tuple[MarkerValue, ...] = ()


class ReferralClinic(ViewModel):
    """Where the baby goes: the follow-up clinic (the letter's recipient when it is the clinic)."""

    name: str = Field(min_length=1)
    address: str = ""
    phone: str = ""


class RecallLetter(ViewModel):
    """Everything a recall letter prints; the LIMS fills it from the case and its recall."""

    document: DocumentInfo
    laboratory: Laboratory
    audience: Literal["clinic", "family"]
    case_id: str = Field(min_length=1)
    baby: Baby
    specimen: Specimen
    disorders: tuple[SuspectedDisorder, ...] = Field(min_length=1)
    action: Literal["request_repeat_specimen", "immediate_referral"]
    time_critical: bool
    due_by: dt.datetime
    #: The referral clinic; None before the follow-up service has assigned one: the clinic
    #: letter then goes to the submitting unit (which recalls the family, and whose
    #: referral the follow-up service arranges), the family's names it as where to go.
    clinic: ReferralClinic | None = None
    #: The booked appointment at ``clinic``, when one is booked: the letter names it and its
    #: deadline is it.
    appointment_at: dt.datetime | None = None
    contacts: tuple[Contact, ...] = Field(min_length=1)
    signed_by: str = Field(min_length=1)
    #: The card's result awaits the laboratory's review (a case opened by hand on a card not
    #: yet released): every disorder is ``suspected`` and no value is quoted.
    result_pending: bool = False

    @model_validator(mode="after")
    def _booked_at_a_clinic(self) -> Self:
        if self.appointment_at is not None and self.clinic is None:
            raise ValueError("an appointment is booked at a clinic: name the clinic")
        return self

    @model_validator(mode="after")
    def _values_only_when_released(self) -> Self:
        if self.result_pending and any(d.first_tier != "suspected" or d.markers
                                       for d in self.disorders):
            raise ValueError("a result awaiting review is quoted neither as a screen result "
                             "nor by its values")
        if not self.result_pending and any(not d.markers for d in self.disorders):
            raise ValueError("each disorder of a released result gives its markers")
        return self

    @property
    def place(self) -> str:
        """Where the baby goes: the clinic, else the submitting unit."""
        return self.clinic.name if self.clinic is not None else self.specimen.submitter.name


def _groups(letter: RecallLetter, words: Wording) -> dict[str, tuple[GroupText, list[str]]]:
    """The disorder groups of the letter in first-named order, with their disorders' codes."""
    out: dict[str, tuple[GroupText, list[str]]] = {}
    for disorder in letter.disorders:
        group = words.group_of(disorder.code)
        out.setdefault(group.name, (group, []))[1].append(disorder.code)
    return out


def _head(letter: RecallLetter, words: Wording, st: Styles, width: float) -> list[Flowable]:
    t = words.letter
    family = letter.audience == "family"
    booked = letter.appointment_at
    deadline = booked or letter.due_by
    due = words.datetime(deadline)
    if booked is not None:
        sentence = getattr(t.booked_family if family else t.booked_clinic, letter.action)
    elif letter.clinic is None and not family:
        sentence = getattr(t.action_submitter, letter.action)
    else:
        sentence = getattr(t.action_family if family else t.action_clinic, letter.action)
    if not letter.time_critical:
        first = fill(t.banner_by, due=words.date(deadline))
    elif words.date(deadline) == words.date(letter.document.issued_at):
        first = t.banner_today
    else:  # issued too late in the day for "today": the deadline, named
        first = fill(t.banner_critical_by, due=due)
    fill_colour = COLOURS.red if letter.time_critical else COLOURS.amber
    recipient = (fill(t.to_family, baby=letter.baby.name) if family
                 else words.label(t.to, letter.place))
    lines = [
        para(t.title_family if family else t.title_clinic, st.title),
        para(recipient, st.body, bold=True),
    ]
    address = (letter.clinic.address if letter.clinic is not None
               else letter.specimen.submitter.district)
    if not family and address:
        lines.append(para(address, st.small))
    lines += [
        Spacer(1, 4),
        banner([(first, st.banner),
                (fill(sentence, due=due, clinic=letter.place), st.banner_text),
                (fill(t.deadline, due=due), st.banner_text)], width, fill_colour),
        Spacer(1, 6),
    ]
    return lines


def _found(letter: RecallLetter, words: Wording, st: Styles) -> list[Flowable]:
    t = words.letter
    family = letter.audience == "family"
    tiers = words.common.tiers
    out: list[Flowable] = [para(t.found_heading, st.h1),
                           para(t.found_intro_family if family else t.found_intro_clinic,
                                st.body)]
    by_code = {d.code: d for d in letter.disorders}
    for group, codes in _groups(letter, words).values():
        names = words.common.reasons_separator.join(
            fill(t.disorder_heading_pending, disorder=words.disorder_label(c))
            if letter.result_pending else
            fill(t.disorder_heading_suspected, disorder=words.disorder_label(c))
            if by_code[c].first_tier == "suspected" else
            fill(t.disorder_heading, disorder=words.disorder_label(c),
                 tier=getattr(tiers, by_code[c].first_tier)) for c in codes)
        urgency = group.urgency_time_critical if letter.time_critical else group.urgency
        out.append(KeepTogether([para(names, st.h2), para(group.what, st.body),
                                 para(urgency, st.body, bold=letter.time_critical)]))
    return out


def _results(letter: RecallLetter, words: Wording, st: Styles, width: float) -> list[Flowable]:
    c = words.common
    rows: list[list[str]] = []
    fills: dict[int, object] = {}
    for disorder in letter.disorders:
        for marker in disorder.markers:
            if marker.tier in ("critical", "positive"):
                fills[len(rows)] = COLOURS.red_fill
            elif marker.tier == "borderline":
                fills[len(rows)] = COLOURS.amber_fill
            rows.append([disorder.code, marker.marker, marker_value(marker),
                         marker_cutoff(marker),
                         marker_finding(marker, words)])
    widths = [0.13, 0.17, 0.2, 0.2, 0.3]
    out: list[Flowable] = [para(words.letter.results_heading, st.h1)]
    if letter.result_pending:
        return [*out, para(words.letter.results_pending, st.body)]
    if letter.audience == "family":
        beyond = any(m.tier in ("borderline", "positive", "critical")
                     for d in letter.disorders for m in d.markers)
        out.append(para(words.letter.results_intro_family if beyond
                        else words.letter.results_intro_family_suspected, st.body))
    out.append(data_table([c.disorder, c.marker, c.value, c.cutoff, c.finding], rows,
                          [w * width for w in widths], st, row_fills=fills, right=(2, 3)))
    return out


def _todo(letter: RecallLetter, words: Wording, st: Styles, width: float) -> list[Flowable]:
    t, c = words.letter, words.common
    family = letter.audience == "family"
    groups = [g for g, _ in _groups(letter, words).values()]
    texts = [g.family_action if family else g.clinic_action for g in groups]
    contacts = [[p.name, p.role, p.phone, p.hours] for p in letter.contacts]
    referral = letter.clinic
    where = (t.clinic_pending if referral is None
             else referral.name + (f"\n{referral.address}" if referral.address else ""))
    clinic = [(t.clinic_heading, where)]
    if referral is not None and referral.phone:
        clinic.append((c.phone, referral.phone))
    if letter.appointment_at is not None:
        clinic.append((t.appointment, words.datetime(letter.appointment_at)))
    cited = [*t.action_sources, *(s for g in groups for s in g.sources)]
    return [
        para(t.todo_heading, st.h1),
        bullets(texts, st.body),
        KeepTogether([
            para(t.contact_heading, st.h1),
            data_table([c.name, c.role, c.phone, c.hours_open], contacts,
                       [0.28 * width, 0.3 * width, 0.2 * width, 0.22 * width], st),
            Spacer(1, 4),
            info_table(clinic, width, st, columns=1),
        ]),
        Spacer(1, 8),
        para(fill(t.issued_by, name=letter.signed_by, laboratory=letter.laboratory.name),
             st.body, bold=True),
        para(sources_line(cited, words), st.small),
    ]


def render_recall_letter(letter: RecallLetter) -> bytes:
    """The letter as PDF bytes (the same view model always gives the same bytes)."""
    words = wording_for(letter.document)
    st = styles(letter.document.lang)
    width = page_size()[0] - 2 * MARGIN
    t = words.letter
    story: list[Flowable] = [
        *correction_box(letter.document, words, width, st),
        *_head(letter, words, st, width),
        para(words.label(t.case, letter.case_id), st.small),
        info_table(identity_pairs(letter.baby, letter.specimen, words), width, st),
        *_found(letter, words, st),
        *_results(letter, words, st, width),
        *_todo(letter, words, st, width),
    ]
    title = t.title_family if letter.audience == "family" else t.title_clinic
    return render(story, PageSetup(letter.document, letter.laboratory, title, words))
