"""Request and response models of the documents domain.

Public names: ``LetterRequest``, ``ResultRequest``, ``BatchRequest``, ``QcRequest``,
``BulletinRequest``, ``CardRequest``, ``CorrectionRequest``, ``LanguageIn``,
``DocumentPublic``, ``MONTH``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, field_validator

from lims.models import DbId, FromAttributes, RequestBody
from lims.vocabulary import DocumentKind, DocumentLanguage, LetterAudience

__all__ = ["MONTH", "BatchRequest", "BulletinRequest", "CardRequest", "CorrectionRequest",
           "DocumentPublic", "LanguageIn", "LetterRequest", "QcRequest", "ResultRequest"]

#: A calendar month, ``YYYY-MM``.
MONTH = r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$"


class _In(RequestBody):
    #: Empty: the submitter's document language, else the laboratory's default.
    language: DocumentLanguage | None = None


class LetterRequest(_In):
    case_id: DbId
    audience: LetterAudience = LetterAudience.clinic


class ResultRequest(_In):
    specimen_id: DbId


class BatchRequest(_In):
    submitter_id: DbId
    #: The laboratory's day (``NBS_TIME_ZONE``) the results were released.
    released_on: date

    @field_validator("released_on")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if not 1900 <= value.year <= 2199:
            raise ValueError("a release day between the years 1900 and 2199")
        return value


class QcRequest(_In):
    run_id: DbId


class BulletinRequest(_In):
    month: str = Field(pattern=MONTH, examples=["2025-03"])

    def first_day(self) -> date:
        return date.fromisoformat(f"{self.month}-01")


class CardRequest(BulletinRequest):
    submitter_id: DbId


class CorrectionRequest(RequestBody):
    reason: str = Field(min_length=3, max_length=1000)


class LanguageIn(RequestBody):
    language: DocumentLanguage


class DocumentPublic(FromAttributes):
    """An issued version, without its bytes (``GET /documents/{id}`` returns those)."""

    id: int
    document_id: str
    kind: DocumentKind
    version: int
    replaces_id: int | None
    language: DocumentLanguage
    audience: str
    specimen_id: int | None
    case_id: int | None
    run_id: int | None
    submitter_id: int | None
    period: str
    sha256: str
    size_bytes: int
    correction_reason: str
    issued_by_name: str
    issued_at: datetime
