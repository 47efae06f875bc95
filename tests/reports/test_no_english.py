"""A Chinese document holds no English words of the system's own: every kind is rendered in
zh-CN, with a call whose reasons hold every phrase the calls write (``cutoffs.reason_phrases``:
the reasons, the items of ``unread: ...`` and ``top features: ...``), and its text is scanned
for runs of Latin words once the allowed ones are taken out: codes (``MCAD``, ``C8/C10``),
units, and the names and versions the view model carries as they are (a method's label, a
cutoff table's version, a control lot, a source's title)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from pydantic import BaseModel

from cutoffs.reason_phrases import FEATURES, MISSING, REASONS
from msms.phrases import Phrase, Phrasebook, split_outside
from reports.bulletin import render_bulletin
from reports.indicators import indicators
from reports.letter import render_recall_letter
from reports.qc import render_qc_report
from reports.report_card import render_report_card, report_card
from reports.result import render_batch_report, render_result_report
from reports.wording import wording
from tests.instruments.builders import AS_WRITTEN, every_reader_warning
from tests.msms.qc.builders import FINDING_FIELDS, every_finding_reason
from tests.reports import builders
from tests.reports.pdfcheck import page_texts, squash

#: A word of three or more lower-case Latin letters: what an English word has and a code
#: (``MCAD``, ``Phe``, ``C5DC``) does not.
ENGLISH = re.compile(r"[A-Za-z]*[a-z]{3,}[A-Za-z]*")
UNITS = ("µmol/L", "umol/L")
#: Codes with lower-case letters that the Chinese names keep (``cblC/D/F``), and the names
#: of the QC rules and charts, which Chinese laboratories use as they are.
CODES = ("cblC", "Levey-Jennings", "Westgard")
#: A value that is not a number, as a call writes it (``C5=nan``).
NON_FINITE = re.compile(r"(?<==)-?(nan|inf)")

#: The view model's fields that the renderer words in the document's language.
WORDED = ("first_tier", "final", "action", "audience", "lang", "sample_type", "status",
          "level", "severity", "decision", "decided_how", "sex", "kind", "notes", "unit",
          "direction", "release_action")

_MISSING_ITEMS = ("C10 not measured, C8/C10 undefined (denominator C10 is 0), C6 missing, "
                  "C5=nan not finite, C4=-1 negative, C3/C2 undefined (quotient beyond the "
                  "floating-point range)")
_FEATURES_ITEMS = ("C8=2.1 (FP median 0.4; for recall), C10=0.1 (FP median 0.2; against "
                   "recall)")
_FIELDS = {"p": "0.91", "threshold": "0.2", "score": "3.1", "cutoff": "2.5", "n": "3",
           "minimum": "10", "op": ">", "marker": "C8", "code": "C10", "value": "0.5",
           "tier": "positive", "disorders": "MCAD, VLCAD", "missing": _MISSING_ITEMS,
           "features": _FEATURES_ITEMS, "condition": "C8=0.4<0.5", "markers": "C8, C10",
           "disorder": "MCAD", "why": "denominator C10 is 0", "codes": "C10",
           "feature": "C8", "median": "0.3"}


def _written(phrase: Phrase) -> str:
    return phrase.text(**{f: _FIELDS[f] for f in phrase.fields})


#: Every phrase a call's reasons can hold, with every item of the lists inside them.
EVERY_REASON = "; ".join(_written(p) for p in REASONS)


def test_the_sample_reasons_hold_every_phrase() -> None:
    def codes(book: Phrasebook, items: str) -> set[str]:
        out = set()
        for item in split_outside(items, ","):
            phrase, fields = book.parse(item)  # type: ignore[misc]
            out.add(phrase.code)
            if "why" in fields:
                out |= codes(MISSING, fields["why"])
        return out

    assert {REASONS.parse(p)[0].code for p in split_outside(EVERY_REASON, ";")  # type: ignore[index]
            } == {p.code for p in REASONS}
    assert codes(MISSING, _MISSING_ITEMS) == {p.code for p in MISSING}
    assert codes(FEATURES, _FEATURES_ITEMS) == {p.code for p in FEATURES}


def _allowed(model: Any) -> list[str]:
    """The names and versions a view model carries as written, and the sources' titles."""
    out = [s.title for s in wording("zh-CN").sources] + [s.url for s in wording("zh-CN").sources]
    out += [t for s in indicators().sources
            for t in (s.title, s.url, f"[{s.id}]", *s.titles.values())]
    out += [", ".join(i.sources) for i in indicators().indicator]  # the keys of the sources

    def walk(value: Any, name: str = "") -> None:
        if isinstance(value, BaseModel):
            for field in type(value).model_fields:
                walk(getattr(value, field), field)
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item, name)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, name)
        elif isinstance(value, str) and name not in ("reasons", "message", *WORDED):
            out.append(value)

    walk(model)
    return sorted({squash(s) for s in out if s}, key=len, reverse=True)


def english_runs(pdf: bytes, model: Any, allowed: Iterable[str] = ()) -> list[str]:
    """The English words left in the document's text once the allowed strings are out."""
    text = squash("".join(page_texts(pdf)))
    for value in [*_allowed(model), *(squash(a) for a in allowed), *UNITS, *CODES]:
        text = text.replace(value, " ")
    text = NON_FINITE.sub(" ", text)
    return ENGLISH.findall(text)


def _result(lang: str) -> Any:
    call = {**builders.MCAD_CALL, "reasons": EVERY_REASON}
    result = builders.specimen_result(lang, results=builders.disorder_results({"MCAD": call}))
    return builders.result_report(lang, result=result)


def _batch(lang: str) -> Any:
    report = builders.batch_report(lang)  # type: ignore[arg-type]
    call = {**builders.MCAD_CALL, "reasons": EVERY_REASON}
    first = report.results[0].model_copy(
        update={"results": builders.disorder_results({"MCAD": call})})
    return report.model_copy(update={"results": (first, *report.results[1:])})


def _card(lang: str) -> Any:
    return report_card(builders.bulletin(lang), "H02",
                       builders.document("CARD-H02-2025-03", lang))  # type: ignore[arg-type]


KINDS: dict[str, tuple[Callable[[str], Any], Callable[[Any], bytes]]] = {
    "letter-clinic": (lambda lang: builders.recall_letter(lang), render_recall_letter),  # type: ignore[arg-type]
    "letter-family": (lambda lang: builders.recall_letter(lang, "family"),  # type: ignore[arg-type]
                      render_recall_letter),
    "result": (_result, render_result_report),
    "batch": (_batch, render_batch_report),
    "qc": (lambda lang: builders.qc_report(lang, findings=()), render_qc_report),  # type: ignore[arg-type]
    "bulletin": (lambda lang: builders.bulletin(lang), render_bulletin),  # type: ignore[arg-type]
    "report-card": (_card, render_report_card),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_chinese_document_has_no_english_words(kind: str) -> None:
    build, render = KINDS[kind]
    model = build("zh-CN")
    runs = english_runs(render(model), model)
    assert runs == [], runs


@pytest.mark.parametrize("kind", ["result", "batch"])
def test_the_scan_finds_the_english_of_an_english_document(kind: str) -> None:
    build, render = KINDS[kind]
    model = build("en")
    found = " ".join(english_runs(render(model), model))
    for word in ("unread", "features", "median", "measured", "recall", "undefined"):
        assert word in found, word


#: Names the sample findings carry as written (a file, a card column) and the measurement kind
#: ``response`` (a code of the measurements table).
_FINDING_NAMES = (FINDING_FIELDS["source"], FINDING_FIELDS["columns"], "response")


def _every_finding(severity: str) -> tuple[Any, ...]:
    """Every plate-QC finding and every reader warning, as a run stores them."""
    from reports.qc import QcFinding

    return tuple(QcFinding(severity=severity, code="plate_qc", message=reason)
                 for reason in (*every_finding_reason(), *every_reader_warning()))


@pytest.mark.parametrize("severity", ["reject", "warning"])
def test_a_chinese_qc_report_words_every_plate_qc_finding(severity: str) -> None:
    """Every phrase of the plate QC's findings (``msms.qc.messages``), as a run stores it, in
    the decision's reasons or warnings and in the table of findings."""
    model = builders.qc_report("zh-CN", findings=_every_finding(severity),
                               method=FINDING_FIELDS["method"])
    as_written = {m for w in every_reader_warning() for m in AS_WRITTEN.findall(w)}
    runs = english_runs(render_qc_report(model), model, (*_FINDING_NAMES, *as_written))
    assert runs == [], runs


def test_the_scan_finds_the_english_of_the_findings_in_an_english_qc_report() -> None:
    model = builders.qc_report("en", findings=_every_finding("warning"))
    found = " ".join(english_runs(render_qc_report(model), model))
    for word in ("contamination", "carryover", "expired", "reportable", "short", "peak",
                 "map"):
        assert word in found, word
