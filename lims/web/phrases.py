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
``repeat_reason`` (a repeat request: serial screening, a reviewer's), ``qc_reason`` (a run's
QC reasons: the LIMS's notes, the plate QC's findings, the instrument reader's warnings),
``delivery_note`` (a result message's delivery), ``genotype_refusal`` (the reflex page's
upload), ``held_reason`` (why an ingest held a well) and ``page_error`` (``install``).

``page_error`` is how a page shows a domain error (``lims.web.context.error_message``): the
error's place (``file:line, field name``) and its message, or the whole text, read back by
one of the refusal phrasebooks (``ERROR_BOOKS``: sign-in and passwords, a card's and a case's
transitions and letters, the review's decisions, uploads and a plate's sign-off, held wells, the
instrument readers' commonest errors, the forms' own checks, ...); an error no phrase wrote
is shown as written, in English.
Lists inside a message are joined as the language joins them (``SEPARATORS``).

Public names: ``ERROR_BOOKS``, ``PHRASEBOOKS``, ``SEPARATORS``, ``STEP_MESSAGES``,
``VALUE_MESSAGES``, ``REASON_MESSAGE``, ``Phrases``, ``install``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment

from cutoffs.reason_phrases import FEATURES, MISSING, REASONS
from instruments.issues import READER_ERRORS, WARNINGS, word_issue
from lims.accession.service import CARD_REFUSALS
from lims.alerts.messages import ALERT_MESSAGES
from lims.auth.service import AUTH_REFUSALS
from lims.documents.service import LETTER_REFUSALS
from lims.followup.machine import CASE_REFUSALS
from lims.interfaces.phrases import DELIVERY_PHRASES
from lims.reference import BARCODE_REFUSALS
from lims.reflex.genotypes import GENOTYPE_REFUSALS
from lims.review.service import RELEASE_REFUSALS, REVIEW_REASONS
from lims.runs.notes import HELD_REASONS, RUN_NOTES
from lims.runs.refusals import RUN_REFUSALS
from lims.runs.withdrawal import WITHDRAWAL_REFUSALS
from lims.serial_screening import SERIAL_CARDS, SERIAL_CRITERIA
from lims.web.refusals import FORM_REFUSALS, PAGE_REFUSALS, PLACES, UPLOAD_REFUSALS, UPLOADS
from lims.workflow import TRANSITION_REFUSALS
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

__all__ = ["ERROR_BOOKS", "PHRASEBOOKS", "REASON_MESSAGE", "SEPARATORS", "STEP_MESSAGES",
           "VALUE_MESSAGES", "Phrases", "install"]

#: Every phrasebook whose texts the pages show (their messages are in the catalogues).
PHRASEBOOKS: tuple[Phrasebook, ...] = (REASONS, MISSING, FEATURES, ALERT_MESSAGES,
                                       REVIEW_REASONS, RELEASE_REFUSALS, SERIAL_CARDS,
                                       SERIAL_CRITERIA, RUN_NOTES, LISTING, DELIVERY_PHRASES,
                                       WITHDRAWAL_REFUSALS, GENOTYPE_REFUSALS, FINDINGS, ITEMS,
                                       WARNINGS, PAGE_REFUSALS, PLACES, UPLOAD_REFUSALS,
                                       BARCODE_REFUSALS, CARD_REFUSALS, FORM_REFUSALS, UPLOADS,
                                       AUTH_REFUSALS, TRANSITION_REFUSALS, CASE_REFUSALS,
                                       LETTER_REFUSALS, RUN_REFUSALS, HELD_REASONS, READER_ERRORS)
#: The message ids of the plate QC's steps, which a run's reasons name.
STEP_MESSAGES: dict[str, str] = {step: f"qc step {step}" for step in STEPS}
#: The message ids of the words of the findings' vocabularies (a sample type, a level).
VALUE_MESSAGES: dict[tuple[str, str], str] = {(name, value): f"qc {name} {value}"
                                              for name, values in VOCABULARIES.items()
                                              for value in values}
#: How a run's reason joins the step and the finding's message.
REASON_MESSAGE = "%(step)s: %(message)s"
#: The errors the pages read back (``page_error``), whole or after their place (``PLACES``).
ERROR_BOOKS: tuple[Phrasebook, ...] = (BARCODE_REFUSALS, CARD_REFUSALS, UPLOAD_REFUSALS,
                                       FORM_REFUSALS, AUTH_REFUSALS, TRANSITION_REFUSALS,
                                       CASE_REFUSALS, LETTER_REFUSALS, RELEASE_REFUSALS,
                                       WITHDRAWAL_REFUSALS, GENOTYPE_REFUSALS, RUN_REFUSALS,
                                       READER_ERRORS, PAGE_REFUSALS)
#: The books whose phrases a page words in English too (a role or a card's state by its
#: label); an English page shows the other errors as the service wrote them (a case's and a
#: card's states and transitions as their codes, as the API names them).
_WORDED_IN_ENGLISH: tuple[Phrasebook, ...] = (BARCODE_REFUSALS, CARD_REFUSALS, UPLOAD_REFUSALS,
                                              RELEASE_REFUSALS, WITHDRAWAL_REFUSALS,
                                              GENOTYPE_REFUSALS, PAGE_REFUSALS)
#: How a message joins the items of a list (``, ``), its clauses (``; ``) and alternatives
#: (`` or ``): message ids of their own, so that a language joins them its way.
SEPARATORS: dict[str, str] = {"list": ", ", "clause": "; ", "or": " or "}
#: The most ``; ``-separated clauses one QC reason holds (``Phrases.qc_reasons``).
_MOST_CLAUSES = 3


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
        if name in ("tier", "due_action", "decision", "role", "state", "source", "status",
                    "outcome"):
            return self.gettext(value)
        if name in ("outcomes", "severities"):
            return self._joined(value, ", ", "list", self.gettext)
        if name == "states":
            return self._joined(value, " or ", "or", self.gettext)
        if name == "transition":
            return self._action(value)
        if name == "transitions":
            return self._joined(value, ", ", "list", self._action)
        if name == "what":
            return self.phrase(UPLOADS, value)
        if name == "qc_reasons":
            return self.qc_reasons(value)
        if name == "rejection":
            return (self.phrase(RUN_REFUSALS, value) if RUN_REFUSALS.parse(value)
                    else self.qc_reasons(value))
        if name == "message":
            return self.input_message(value)
        if name == "due_at":
            try:
                return self.time(datetime.fromisoformat(value))
            except ValueError:
                return value
        return value

    def _joined(self, value: str, sep: str, name: str, word: Callable[[str], str]) -> str:
        """A list joined with ``sep``, item by item (``word``), joined as the language does."""
        joiner = self.gettext(SEPARATORS[name])
        return joiner.join(word(item.strip()) for item in value.split(sep))

    def qc_reasons(self, text: str) -> str:
        """A run's QC reasons joined with ``; `` (a reason may hold ``; `` of its own: the
        shortest run of parts that reads as one reason is taken), each as ``qc_reason``."""
        parts, out, i = text.split("; "), [], 0
        while i < len(parts):
            for j in range(i + 1, min(i + _MOST_CLAUSES, len(parts)) + 1):
                chunk = "; ".join(parts[i:j])
                worded = self.qc_reason(chunk)
                if worded != chunk:
                    break
            else:
                j, worded = i + 1, parts[i]
            out.append(worded)
            i = j
        return self.gettext(SEPARATORS["clause"]).join(out)

    def _action(self, name: str) -> str:
        """A transition by its audit trail's label (``audit <name>``); else as written."""
        text = self.gettext(f"audit {name}")
        return name if text == f"audit {name}" else text

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
                            reason=self._template_of(REASON_MESSAGE) or "{step}: {message}",
                            list_separator=self.gettext(SEPARATORS["list"]),
                            clause_separator=self.gettext(SEPARATORS["clause"]))

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

    def held_reason(self, text: str) -> str:
        return self.phrase(HELD_REASONS, text)

    def page_error(self, text: str) -> str:
        """A domain error shown on a page: its place (``file:line, field name``) and its
        message when a refusal phrase wrote the message, else the whole text when one wrote
        it; else (or where the language words the phrase as English does, outside
        ``_WORDED_IN_ENGLISH``) as written."""
        place = PLACES.parse(text)
        message = text if place is None or _book_of(place[1]["message"]) is None \
            else place[1]["message"]
        book = _book_of(message)
        if book is None or not (book in _WORDED_IN_ENGLISH or self._translated(book, message)):
            return text
        return self.phrase(PLACES, text) if message is not text else self.phrase(book, text)

    def _translated(self, book: Phrasebook, text: str) -> bool:
        """Whether the language words the phrase that wrote ``text`` otherwise than English."""
        found = book.parse(text)
        return found is not None and self.gettext(found[0].msgid) != found[0].msgid

    def input_error(self, text: str) -> str:
        """A form's or file's input error (``page_error``)."""
        return self.page_error(text)

    def input_message(self, text: str) -> str:
        book = _book_of(text)
        return text if book is None else self.phrase(book, text)


def _book_of(text: str) -> Phrasebook | None:
    """The refusal phrasebook (``ERROR_BOOKS``) one of whose phrases wrote ``text``, or None."""
    return next((book for book in ERROR_BOOKS if book.parse(text) is not None), None)


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
    env.filters["page_error"] = phrases.page_error
    env.filters["held_reason"] = phrases.held_reason
