"""Texts the system stores in English, shown in the page's language: a call's reasons, an
alert's message, the reason a decision was recorded with, why a bulk release or a plate's
withdrawal or a page was refused, why a genotype file was refused.
Each is read back as a phrase (a code and its fields) by the phrasebook that wrote it
(``msms.phrases``) and rendered through the catalogue; a field that is itself a phrase
(the reasons of an alert, the items of ``unread: ...``) is rendered the same way. A text no
phrase wrote (a reviewer's own words, a marker against its cutoff) is shown as written.

The templates use the filters ``reasons``, ``reason``, ``alert_message``, ``review_reason``,
``release_refusal``, ``withdrawal_refusal``, ``page_refusal`` (why a page was refused),
``input_error`` (a form's or a file's input error: card numbers, card data, uploads),
``case_refusal`` (why a follow-up case's transition or letter was refused),
``repeat_reason`` (a repeat request: serial screening, a reviewer's), ``qc_reason`` (a run's
QC reasons: the LIMS's notes, the plate QC's findings, the instrument reader's warnings),
``delivery_note`` (a result message's delivery) and ``genotype_refusal`` (the reflex page's
upload) (``install``).

Public names: ``PHRASEBOOKS``, ``STEP_MESSAGES``, ``VALUE_MESSAGES``, ``REASON_MESSAGE``,
``Phrases``, ``install``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment

from cutoffs.reason_phrases import FEATURES, MISSING, REASONS
from instruments.issues import WARNINGS, word_issue
from lims.accession.service import CARD_REFUSALS
from lims.alerts.messages import ALERT_MESSAGES
from lims.documents.service import LETTER_REFUSALS
from lims.followup.machine import CASE_REFUSALS
from lims.interfaces.phrases import DELIVERY_PHRASES
from lims.reference import BARCODE_REFUSALS
from lims.reflex.genotypes import GENOTYPE_REFUSALS
from lims.review.service import RELEASE_REFUSALS, REVIEW_REASONS
from lims.runs.notes import RUN_NOTES
from lims.runs.withdrawal import WITHDRAWAL_REFUSALS
from lims.serial_screening import SERIAL_CARDS, SERIAL_CRITERIA
from lims.web.refusals import PAGE_REFUSALS, PLACES, UPLOAD_REFUSALS
from msms.phrases import Phrase, Phrasebook, split_outside
from msms.qc.messages import (
    FINDINGS,
    ITEMS,
    LISTING,
    STEPS,
    VOCABULARIES,
    FindingWords,
    word_reason,
)

__all__ = ["PHRASEBOOKS", "REASON_MESSAGE", "STEP_MESSAGES", "VALUE_MESSAGES", "Phrases",
           "install"]

#: Every phrasebook whose texts the pages show (their messages are in the catalogues).
PHRASEBOOKS: tuple[Phrasebook, ...] = (REASONS, MISSING, FEATURES, ALERT_MESSAGES,
                                       REVIEW_REASONS, RELEASE_REFUSALS, SERIAL_CARDS,
                                       SERIAL_CRITERIA, RUN_NOTES, LISTING, DELIVERY_PHRASES,
                                       WITHDRAWAL_REFUSALS, GENOTYPE_REFUSALS, FINDINGS, ITEMS,
                                       WARNINGS, PAGE_REFUSALS, PLACES, UPLOAD_REFUSALS,
                                       BARCODE_REFUSALS, CARD_REFUSALS, CASE_REFUSALS,
                                       LETTER_REFUSALS)
#: The message ids of the plate QC's steps, which a run's reasons name.
STEP_MESSAGES: dict[str, str] = {step: f"qc step {step}" for step in STEPS}
#: The message ids of the words of the findings' vocabularies (a sample type, a level).
VALUE_MESSAGES: dict[tuple[str, str], str] = {(name, value): f"qc {name} {value}"
                                              for name, values in VOCABULARIES.items()
                                              for value in values}
#: How a run's reason joins the step and the finding's message.
REASON_MESSAGE = "%(step)s: %(message)s"
#: The input errors the pages read back (``input_error``), after their place (``PLACES``).
INPUT_ERRORS: tuple[Phrasebook, ...] = (BARCODE_REFUSALS, CARD_REFUSALS, UPLOAD_REFUSALS)


@dataclass(frozen=True)
class Phrases:
    """Renders stored texts with one language's ``gettext`` and the lab's ``time`` filter."""

    gettext: Callable[[str], str]
    time: Callable[..., str]

    def phrase(self, book: Phrasebook, text: str) -> str:
        found = book.parse(text)
        if found is None:
            return text
        phrase, fields = found
        return self.gettext(phrase.msgid) % {k: self._field(k, v) for k, v in fields.items()}

    def _field(self, name: str, value: str) -> str:
        if name == "missing":
            return ", ".join(self.phrase(MISSING, m) for m in split_outside(value, ","))
        if name == "why":
            return self.phrase(MISSING, value)
        if name == "features":
            return ", ".join(self.phrase(FEATURES, f) for f in split_outside(value, ","))
        if name == "reasons":
            return self.reasons(value)
        if name == "criterion":
            return self.phrase(SERIAL_CRITERIA, value)
        if name in ("wells", "analytes"):
            return self.phrase(LISTING, value)
        if name in ("tier", "due_action", "decision", "role", "state"):
            return self.gettext(value)
        if name == "message":
            return self.input_message(value)
        if name == "due_at":
            try:
                return self.time(datetime.fromisoformat(value))
            except ValueError:
                return value
        return value

    def reasons(self, text: str) -> str:
        """A call's reasons, part by part."""
        return "; ".join(self.reason(part) for part in split_outside(text, ";"))

    def reason(self, part: str) -> str:
        """One part of a call's reasons."""
        return self.phrase(REASONS, part)

    def alert_message(self, text: str) -> str:
        return self.phrase(ALERT_MESSAGES, text)

    def review_reason(self, text: str) -> str:
        return self.phrase(REVIEW_REASONS, text)

    def release_refusal(self, text: str) -> str:
        return self.phrase(RELEASE_REFUSALS, text)

    def repeat_reason(self, text: str) -> str:
        """A repeat request's reason: serial screening's, or a reviewer's."""
        found = SERIAL_CARDS.parse(text)
        return self.phrase(SERIAL_CARDS if found else REVIEW_REASONS, text)

    def qc_reason(self, text: str) -> str:
        """A run's QC reason: a note of the LIMS's, a plate-QC finding (``<step>: <message>``),
        or an instrument reader's issue."""
        if RUN_NOTES.parse(text) is not None:
            return self.phrase(RUN_NOTES, text)
        words = self._finding_words()
        worded = word_reason(text, words)
        if worded is None:
            worded = word_issue(text, words)
        return text if worded is None else worded

    def _finding_words(self) -> FindingWords:
        return FindingWords(template=self._template, step=self._step, value=self._value,
                            severity=self._word,
                            reason=self._template_of(REASON_MESSAGE) or "{step}: {message}")

    def _template(self, phrase: Phrase) -> str | None:
        return self._template_of(phrase.msgid)

    def _template_of(self, msgid: str) -> str | None:
        """The translation of ``msgid`` with ``{name}`` placeholders; None if untranslated."""
        text = self.gettext(msgid)
        if text == msgid:
            return None
        text = text.replace("{", "{{").replace("}", "}}")
        return re.sub(r"%\((\w+)\)s", r"{\1}", text).replace("%%", "%")

    def _value(self, name: str, value: str) -> str:
        msgid = VALUE_MESSAGES.get((name, value), value)
        text = self.gettext(msgid)
        return value if text == msgid else text

    def _word(self, word: str) -> str:
        return self.gettext(word)

    def _step(self, step: str) -> str:
        msgid = STEP_MESSAGES.get(step, step)
        text = self.gettext(msgid)
        return step if text == msgid else text

    def delivery_note(self, text: str) -> str:
        return self.phrase(DELIVERY_PHRASES, text)

    def withdrawal_refusal(self, text: str) -> str:
        return self.phrase(WITHDRAWAL_REFUSALS, text)

    def genotype_refusal(self, text: str) -> str:
        return self.phrase(GENOTYPE_REFUSALS, text)

    def page_refusal(self, text: str) -> str:
        return self.phrase(PAGE_REFUSALS, text)

    def case_refusal(self, text: str) -> str:
        """Why a case's form was refused: a transition's or a letter's refusal, else an input
        error."""
        for book in (CASE_REFUSALS, LETTER_REFUSALS):
            if book.parse(text) is not None:
                return self.phrase(book, text)
        return self.input_error(text)

    def input_error(self, text: str) -> str:
        """A form's or file's input error: its place, then its message, each read back."""
        return (self.phrase(PLACES, text) if PLACES.parse(text) is not None
                else self.input_message(text))

    def input_message(self, text: str) -> str:
        for book in INPUT_ERRORS:
            if book.parse(text) is not None:
                return self.phrase(book, text)
        return text


def install(env: Environment, gettext: Callable[[str], str], time: Callable[..., str]) -> None:
    """The filters of ``Phrases`` in one language's template environment."""
    phrases = Phrases(gettext, time)
    env.filters["reasons"] = phrases.reasons
    env.filters["reason"] = phrases.reason
    env.filters["alert_message"] = phrases.alert_message
    env.filters["review_reason"] = phrases.review_reason
    env.filters["release_refusal"] = phrases.release_refusal
    env.filters["repeat_reason"] = phrases.repeat_reason
    env.filters["qc_reason"] = phrases.qc_reason
    env.filters["delivery_note"] = phrases.delivery_note
    env.filters["withdrawal_refusal"] = phrases.withdrawal_refusal
    env.filters["genotype_refusal"] = phrases.genotype_refusal
    env.filters["page_refusal"] = phrases.page_refusal
    env.filters["input_error"] = phrases.input_error
    env.filters["case_refusal"] = phrases.case_refusal
