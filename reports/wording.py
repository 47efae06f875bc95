"""The wording of the documents: versioned, cited data per language
(``reports/data/wording/<lang>.toml``), loaded into typed, validated models.

Each file holds a ``version``, its ``sources`` and the texts per document (``common``,
``letter``, ``result``, ``qc``, ``bulletin``, ``card``), per disorder group (the catalogue's
categories: what the disorder is in plain words, how urgent, what the clinic and the family do)
and a name per disorder code. Loading checks that every category and every catalogue disorder
has its text, that every cited source id is listed, and that a translation uses the same
placeholders as the English file; an error names the file, line and field.

Public names: ``Wording``, ``GroupText``, ``Source``, ``wording``, ``load_wording``,
``wording_for``, ``wording_path``, ``fill``, ``placeholders``.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cutoffs.reason_phrases import FEATURES, MISSING, REASONS
from instruments.issues import WARNINGS, word_issue
from msms.catalogue import DISORDER_CATEGORIES, default_catalogue
from msms.phrases import Phrase, Phrasebook, split_outside
from msms.qc.messages import FINDINGS, ITEMS, LISTING, STEPS, FindingWords, word_reason
from reports import ReportError
from reports.datafile import DATA_DIR, ReportDataError, line_of, load_toml
from reports.models import LANGUAGES, DocumentInfo, Lang

__all__ = ["GroupText", "Source", "Wording", "fill", "load_wording", "placeholders",
           "wording", "wording_for", "wording_path"]


class _Text(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Text):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    url: str = Field(min_length=1)


class SexValues(_Text):
    M: str
    F: str
    U: str


class SpecimenKinds(_Text):
    initial: str
    repeat: str
    preterm_serial: str
    post_transfusion: str


class Tiers(_Text):
    normal: str
    borderline: str
    positive: str
    critical: str
    not_evaluable: str


class Finals(_Text):
    negative: str
    borderline: str
    positive: str


class Actions(_Text):
    none: str
    repeat_in_duplicate: str
    reflex_second_tier: str
    request_repeat_specimen: str
    immediate_referral: str


class CommonText(_Text):
    page: str
    document: str
    issued: str
    wording: str
    correction_title: str
    correction: str
    replaced_hash: str
    baby: str
    sex: str
    born: str
    birth_weight: str
    gestational_age: str
    mother: str
    infant_id: str
    medical_record_number: str
    card: str
    specimen: str
    specimen_kind: str
    collected: str
    age_at_collection: str
    received: str
    submitter: str
    district: str
    marker: str
    value: str
    cutoff: str
    finding: str
    above: str
    below: str
    within: str
    hours: str
    days: str
    weeks: str
    grams: str
    not_recorded: str
    none: str
    phone: str
    name: str
    role: str
    hours_open: str
    laboratory: str
    disorder: str
    result: str
    action: str
    colon: str
    #: A note in brackets after a text (``{text}``, ``{inside}``), in the language's brackets
    #: (a disorder's code after its name, a tier after where a value stands).
    bracketed: str = "{text} ({inside})"
    reasons_separator: str = "; "
    #: Between the items of a list inside a reason (the markers not read, the features).
    list_separator: str = ", "
    sex_values: SexValues
    specimen_kinds: SpecimenKinds
    tiers: Tiers
    finals: Finals
    actions: Actions


class LetterActions(_Text):
    request_repeat_specimen: str
    immediate_referral: str


class LetterText(_Text):
    title_clinic: str
    title_family: str
    to: str
    to_family: str
    case: str
    banner_today: str
    banner_by: str
    banner_critical_by: str
    #: A time-critical letter's deadline is the end of the laboratory's day of issue only
    #: when at least this many hours remain (the ``[letter]`` comment gives the reasons).
    act_today_min_hours: float = Field(gt=0, le=24)
    act_today_sources: tuple[str, ...]
    deadline: str
    found_heading: str
    #: A suspected disorder's heading: ``{disorder}`` its name with its code once,
    #: ``{tier}`` its first-tier result.
    disorder_heading: str
    #: The heading of a disorder a follow-up case suspects that the screen did not flag (a
    #: case opened by hand: family history, a clinical sign): never a screen result.
    disorder_heading_suspected: str
    #: The heading of a disorder a case opened by hand suspects while its card's result still
    #: awaits the laboratory's review: neither a screen result nor its values are quoted.
    disorder_heading_pending: str
    found_intro_clinic: str
    found_intro_family: str
    results_heading: str
    results_intro_family: str
    #: The family letter's results intro when no value is beyond its cutoff (a case opened by
    #: hand on a card the screen did not flag).
    results_intro_family_suspected: str
    #: In place of the values, when the card's result awaits review (a case opened by hand).
    results_pending: str
    todo_heading: str
    contact_heading: str
    clinic_heading: str
    clinic_pending: str
    appointment: str
    issued_by: str
    action_sources: tuple[str, ...]
    action_clinic: LetterActions
    action_submitter: LetterActions
    action_family: LetterActions
    booked_clinic: LetterActions
    booked_family: LetterActions


class SpecimenNotes(_Text):
    early_collection: str
    preterm: str
    low_birth_weight: str
    tpn: str
    transfused: str
    unsatisfactory: str
    sources: tuple[str, ...]


class ResultText(_Text):
    title: str
    batch_title: str
    to: str
    overall_negative: str
    overall_negative_text: str
    overall_flagged: str
    overall_flagged_text: str
    notes_heading: str
    findings_heading: str
    reasons: str
    second_tier: str
    all_heading: str
    method_heading: str
    method: str
    cutoff_version: str
    cutoff_rules: str
    model_version: str
    wording_version: str
    limitations_heading: str
    released: str
    reviewed: str
    batch_summary_heading: str
    batch_count: str
    batch_released_on: str
    number: str
    limitations: tuple[str, ...] = Field(min_length=1)
    limitations_sources: tuple[str, ...]
    notes: SpecimenNotes


class QcDecisions(_Text):
    accept: str
    accept_with_warnings: str
    reject: str


class SampleTypes(_Text):
    patient: str
    blank: str
    qc_low: str
    qc_high: str
    qc_other: str
    calibrator: str
    proficiency: str
    unknown: str
    empty: str


class WellStatuses(_Text):
    ok: str
    warning: str
    rejected: str
    not_reportable: str
    empty: str


class Levels(_Text):
    low: str
    high: str
    other: str


class Severities(_Text):
    warning: str
    reject: str


class QcDeciders(_Text):
    """Who or what decided a plate: ``{name}`` the person, ``{note}`` the rules or reason."""

    plate_qc: str
    plate_qc_unattended: str
    accepted: str
    rejected: str
    withdrawn: str


class QcText(_Text):
    title: str
    run: str
    plate: str
    instrument: str
    instrument_run: str
    file: str
    method: str
    rules: str
    acquired: str
    decision_heading: str
    decided_by: str
    reasons_heading: str
    warnings_heading: str
    plate_map_heading: str
    plate_map_note: str
    is_heading: str
    is_low: str
    is_all_ok: str
    controls_heading: str
    in_unit: str
    lot: str
    level: str
    analyte: str
    well: str
    target: str
    sd: str
    z: str
    mean: str
    flags: str
    lj_heading: str
    lj_note: str
    findings_heading: str
    none: str
    severity: str
    check: str
    message: str
    severities: Severities
    decisions: QcDecisions
    deciders: QcDeciders
    sample_types: SampleTypes
    statuses: WellStatuses
    levels: Levels


class Directions(_Text):
    higher: str
    lower: str
    neither: str


class UnitsOfMeasure(_Text):
    """An indicator's unit (``reports/data/indicators.toml`` ``unit``) in the definitions."""

    percent: str
    h: str
    d: str
    count: str


class BulletinText(_Text):
    title: str
    cards: str
    period: str
    programme_heading: str
    indicator: str
    value: str
    n: str
    target: str
    median: str
    met: str
    not_met: str
    districts_heading: str
    units_heading: str
    unit: str
    ranking_heading: str
    ranking_note: str
    rank: str
    mean_rank: str
    charts_heading: str
    chart_note: str
    cases_heading: str
    cases: str
    definitions_heading: str
    numerator: str
    denominator: str
    unit_of_measure: str
    direction: str
    source: str
    no_data: str
    indicators_version: str
    #: A source cited in its own language, given with its title in the document's
    #: (``{title}``) and its citation as published (``{original}``).
    translated_source: str
    status: str
    group: str
    directions: Directions
    units: UnitsOfMeasure


class CardStatuses(_Text):
    better: str
    worse: str
    same: str
    none: str


class CardText(_Text):
    title: str
    this_unit: str
    programme_median: str
    rank: str
    rank_of: str
    status: str
    chart_heading: str
    chart_note: str
    statuses: CardStatuses


class GroupText(_Text):
    """What a disorder group is, how urgent, and what the clinic and the family do."""

    name: str
    what: str
    urgency_time_critical: str
    urgency: str
    clinic_action: str
    family_action: str
    sources: tuple[str, ...] = Field(min_length=1)


class Wording(_Text):
    """One language's texts. Build it with :func:`load_wording` or :func:`wording`."""

    version: str = Field(min_length=1)
    language: Lang
    language_name: str
    date_format: str
    datetime_format: str
    sources: tuple[Source, ...] = Field(min_length=1)
    common: CommonText
    letter: LetterText
    result: ResultText
    qc: QcText
    bulletin: BulletinText
    card: CardText
    group: dict[str, GroupText]
    disorders: dict[str, str]
    #: A call's reasons phrase by phrase (``cutoffs.reason_phrases.REASONS`` codes, the same
    #: fields); a phrase not listed, a marker against its cutoff, prints as written.
    reasons: dict[str, str] = {}
    #: The items inside ``unread: ...`` / ``not evaluable: ...`` and why a ratio is undefined
    #: (``cutoffs.reason_phrases.MISSING`` codes, the same fields).
    missing: dict[str, str] = {}
    #: The items inside ``top features: ...`` (``cutoffs.reason_phrases.FEATURES`` codes).
    features: dict[str, str] = {}
    #: The plate QC's findings phrase by phrase (``msms.qc.messages.FINDINGS`` codes, the same
    #: fields), the items of their lists (``ITEMS`` codes, and ``more`` for a list cut short:
    #: ``LISTING``) and the names of the steps (``STEPS``); a finding not listed prints as
    #: written.
    qc_findings: dict[str, str] = {}
    qc_items: dict[str, str] = {}
    qc_steps: dict[str, str] = {}
    #: The instrument readers' warnings a run keeps with its QC reasons
    #: (``instruments.issues.WARNINGS`` codes, the same fields).
    reader_warnings: dict[str, str] = {}

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = sorted(DISORDER_CATEGORIES - set(self.group))
        if missing:
            raise ValueError(f"no [group.*] text for the catalogue categories {missing}")
        unknown = sorted(set(self.group) - DISORDER_CATEGORIES)
        if unknown:
            raise ValueError(f"[group.*] names unknown categories {unknown}")
        codes = {d.code for d in default_catalogue().disorders}
        if missing := sorted(codes - set(self.disorders)):
            raise ValueError(f"[disorders] has no name for {missing}")
        if unknown := sorted(set(self.disorders) - codes):
            raise ValueError(f"[disorders] names codes the catalogue does not have: {unknown}")
        for table, book in (("reasons", REASONS), ("missing", MISSING),
                            ("features", FEATURES), ("qc_findings", FINDINGS),
                            ("reader_warnings", WARNINGS)):
            _check_phrases(table, getattr(self, table), book)
        _check_phrases("qc_items", {k: v for k, v in self.qc_items.items() if k != "more"},
                       ITEMS)
        _check_phrases("qc_items", {k: v for k, v in self.qc_items.items() if k == "more"},
                       LISTING)
        if unknown := sorted(set(self.qc_steps) - set(STEPS)):
            raise ValueError(f"[qc_steps] names steps the plate QC does not have: {unknown}")
        known = {s.id for s in self.sources}
        for where, ids in self._cited():
            if bad := sorted(set(ids) - known):
                raise ValueError(f"{where} cites sources not listed in [[sources]]: {bad}")
        return self

    def _cited(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        yield "letter.action_sources", self.letter.action_sources
        yield "letter.act_today_sources", self.letter.act_today_sources
        yield "result.limitations_sources", self.result.limitations_sources
        yield "result.notes.sources", self.result.notes.sources
        for name, group in self.group.items():
            yield f"group.{name}.sources", group.sources

    def label(self, label: str, value: str) -> str:
        """``label: value`` with this language's colon."""
        return f"{label}{self.common.colon}{value}"

    def disorder_name(self, code: str) -> str:
        """The disorder's name in this language (the catalogue's code if it has none)."""
        return self.disorders.get(code, code)

    def disorder_label(self, code: str) -> str:
        """The name with the code in the language's brackets, unless the name already holds
        the code."""
        name = self.disorder_name(code)
        return name if code in name else self.bracketed(name, code)

    def bracketed(self, text: str, inside: str) -> str:
        """``text (inside)`` in the language's brackets (``common.bracketed``)."""
        return fill(self.common.bracketed, text=text, inside=inside)

    def group_of(self, code: str) -> GroupText:
        """The text of the disorder's group (its catalogue category)."""
        return self.group[default_catalogue().disorder(code).category]

    def call_reasons(self, text: str) -> str:
        """A call's reasons in this language, phrase by phrase (``[reasons]``), with the
        items of ``unread: ...`` (``[missing]``) and ``top features: ...`` (``[features]``)."""
        return self.common.reasons_separator.join(
            self._phrase(REASONS, self.reasons, part) for part in split_outside(text, ";"))

    def _phrase(self, book: Phrasebook, table: dict[str, str], text: str) -> str:
        """``text`` in this language when a phrase of ``book`` wrote it and ``table`` words
        that phrase; else as written."""
        found = book.parse(text)
        template = table.get(found[0].code) if found is not None else None
        if found is None or template is None:
            return text
        return fill(template, **{name: self._field(name, value)
                                 for name, value in found[1].items()})

    def _field(self, name: str, value: str) -> str:
        """A field of a phrase: a tier by its name, a list of missing markers or of features
        item by item, why a ratio is undefined as a phrase; other fields as written."""
        if name == "tier":
            return str(getattr(self.common.tiers, value, value))
        if name in ("missing", "features"):
            book, table = (MISSING, self.missing) if name == "missing" else (FEATURES,
                                                                             self.features)
            return self.common.list_separator.join(
                self._phrase(book, table, item) for item in split_outside(value, ","))
        if name == "why":
            return self._phrase(MISSING, self.missing, value)
        return value

    def qc_reason(self, text: str) -> str:
        """A run's stored QC reason in this language: a plate-QC finding (``<step>:
        <message>``, ``msms.qc.messages``) or an instrument reader's warning
        (``instruments.issues``); another text as written."""
        words = self._finding_words
        worded = word_reason(text, words)
        if worded is None:
            worded = word_issue(text, words)
        return text if worded is None else worded

    @property
    def _finding_words(self) -> FindingWords:
        def template(phrase: Phrase) -> str | None:
            for table, book in ((self.qc_findings, FINDINGS),
                                (self.reader_warnings, WARNINGS)):
                if phrase.code in table and book[phrase.code] is phrase:
                    return table[phrase.code]
            return self.qc_items.get(phrase.code)

        def value(name: str, value: str) -> str:
            table = {"sample_type": self.qc.sample_types, "level": self.qc.levels}[name]
            return str(getattr(table, value, value))

        def severity(name: str) -> str:
            return str(getattr(self.qc.severities, name, name))

        c = self.common
        return FindingWords(template=template, step=lambda name: self.qc_steps.get(name, name),
                            value=value, severity=severity,
                            reason="{step}" + c.colon + "{message}",
                            list_separator=c.list_separator,
                            clause_separator=c.reasons_separator)

    def source(self, source_id: str) -> Source:
        return next(s for s in self.sources if s.id == source_id)

    def date(self, value: Any) -> str:
        """A date in this language's format (numeric, so no locale is involved)."""
        return str(value.strftime(self.date_format))

    def datetime(self, value: Any) -> str:
        """A date and time in this language's format, with the UTC offset when it has one."""
        text = str(value.strftime(self.datetime_format))
        offset = value.strftime("%z") if getattr(value, "tzinfo", None) else ""
        return f"{text} ({offset[:3]}:{offset[3:]})" if offset else text


def _check_phrases(table: str, templates: dict[str, str], book: Phrasebook) -> None:
    """Every template of ``[table]`` words a phrase of ``book`` with the phrase's fields."""
    for code, template in templates.items():
        try:
            fields = set(book[code].fields)
        except KeyError:
            raise ValueError(f"[{table}] names a phrase the calls do not write: {code!r}"
                             ) from None
        if placeholders(template) != fields:
            raise ValueError(f"[{table}] {code}: placeholders {sorted(placeholders(template))} "
                             f"differ from the phrase's {sorted(fields)}")


def wording_for(info: DocumentInfo) -> Wording:
    """The wording of a document's language; ReportError if the document was issued with
    another wording version than the packaged one (a reprint must not change its text)."""
    words = wording(info.lang)
    if info.wording_version is not None and info.wording_version != words.version:
        raise ReportError(
            f"document {info.document_id} version {info.version} was issued with wording "
            f"{info.lang} {info.wording_version}, but the packaged wording is {words.version}: "
            "reprint the stored PDF, or issue a new version")
    return words


def wording_path(lang: str) -> Path:
    return DATA_DIR / "wording" / f"{lang}.toml"


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders of a text."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def fill(template: str, **values: object) -> str:
    """``template`` with its placeholders filled; ReportError names a missing one."""
    try:
        return template.format(**values)
    except (KeyError, IndexError) as exc:
        raise ReportError(f"wording {template!r} needs a value for {exc}") from None


def _texts(value: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...],
                                                                         str]]:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _texts(getattr(value, name), (*loc, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*loc, key))
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from _texts(item, (*loc, index))
    elif isinstance(value, str):
        yield loc, value


def _check_placeholders(path: Path, reference: Wording, other: Wording) -> None:
    ours = dict(_texts(reference))
    text = path.read_text(encoding="utf-8")
    for loc, template in _texts(other):
        expected = ours.get(loc)
        if expected is None or placeholders(expected) == placeholders(template):
            continue
        raise ReportDataError(
            f"placeholders {sorted(placeholders(template))} differ from the English text's "
            f"{sorted(placeholders(expected))}",
            file=str(path), line=line_of(text, loc), field=".".join(str(p) for p in loc))


def load_wording(path: Path) -> Wording:
    """A wording file, validated; a translation is checked against the English placeholders."""
    loaded = load_toml(path, Wording)
    if loaded.language != "en":
        _check_placeholders(path, wording("en"), loaded)
    return loaded


@cache
def wording(lang: Lang) -> Wording:
    """The packaged wording of ``lang`` (loaded once per process)."""
    if lang not in LANGUAGES:
        raise ReportError(f"no wording for language {lang!r}; choose from {', '.join(LANGUAGES)}")
    return load_wording(wording_path(lang))
