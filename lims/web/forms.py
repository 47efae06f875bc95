"""HTML form fields to the domains' request models: an accession card from the accession
form. A value the model refuses is an ``InvalidInputError`` naming the form's field.

Public names: ``specimen_from_form``, ``optional``, ``form_time``, ``validated``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from lims.accession.schemas import SpecimenCreate
from lims.accession.service import CARD_REFUSALS
from lims.errors import InvalidInputError

__all__ = ["form_time", "optional", "specimen_from_form", "validated"]

M = TypeVar("M", bound=BaseModel)



def optional(form: FormData, name: str) -> str | None:
    """The field's text, or None when it is absent or blank."""
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


def form_time(form: FormData, name: str, zone: ZoneInfo) -> str | None:
    """A ``datetime-local`` field, the laboratory's clock in ``zone`` (the input has no zone;
    a value that names its offset keeps it), as an ISO time in UTC; None when blank. A value
    that is no time is passed on as typed, for the model to refuse naming the field."""
    value = optional(form, name)
    if value is None:
        return None
    try:
        typed = datetime.fromisoformat(value)
    except ValueError:
        return value
    local = typed if typed.tzinfo is not None else typed.replace(tzinfo=zone)
    return local.astimezone(UTC).isoformat()


def _flag(form: FormData, name: str) -> bool:
    return optional(form, name) in {"1", "on", "true", "yes"}


def specimen_from_form(form: FormData, zone: ZoneInfo) -> SpecimenCreate:
    """The card the accession form describes: a new baby, or a repeat card naming the earlier
    card's barcode; its times typed on the laboratory's clock in ``zone``. The submitter is
    required: the form starts with none chosen, and a card without one is refused naming the
    field (it decides where the results, messages and letters go)."""
    if optional(form, "submitter_id") is None:
        raise InvalidInputError(CARD_REFUSALS.text("no_submitter"), field="submitter_id")
    body: dict[str, Any] = {
        "barcode": optional(form, "barcode") or "",
        "submitter_id": optional(form, "submitter_id"),
        "collected_at": form_time(form, "collected_at", zone),
        "received_at": form_time(form, "received_at", zone),
        "birth_weight_g": optional(form, "birth_weight_g"),
        "gestational_age_weeks": optional(form, "gestational_age_weeks"),
        "feeding": optional(form, "feeding") or "unknown",
        "tpn": _flag(form, "tpn"),
        "transfused": _flag(form, "transfused"),
        "transfused_at": form_time(form, "transfused_at", zone),
        "nicu": _flag(form, "nicu"),
        "tpn_started_at": form_time(form, "tpn_started_at", zone),
        "tpn_stopped_at": form_time(form, "tpn_stopped_at", zone),
        "pivalate_exposure": _flag(form, "pivalate_exposure"),
        "maternal_b12_low": _flag(form, "maternal_b12_low"),
        "maternal_diet": optional(form, "maternal_diet") or "",
        "maternal_disorder": optional(form, "maternal_disorder") or "",
        "unsatisfactory_code": optional(form, "unsatisfactory_code"),
    }
    previous = optional(form, "previous_barcode")
    if previous:
        body["previous_barcode"] = previous
    else:
        body["infant"] = {
            "submitter_id": body["submitter_id"],
            "birth_at": form_time(form, "birth_at", zone),
            "sex": optional(form, "sex") or "U",
            "medical_record_number": optional(form, "medical_record_number") or "",
            "mother_name": optional(form, "mother_name") or "",
            "mother_id": optional(form, "mother_id") or "",
            "birth_weight_g": body["birth_weight_g"],
            "gestational_age_weeks": body["gestational_age_weeks"],
            "plurality": optional(form, "plurality") or 1,
            "birth_order": optional(form, "birth_order") or 1,
        }
    return validated(SpecimenCreate, body, nested="infant.")


def validated(model: type[M], body: dict[str, Any], *, nested: str = "", whole: str = "") -> M:
    """``body`` as ``model``; its first refused value is an ``InvalidInputError`` naming the
    form's field (a field of a ``nested`` part named as on the form; ``whole`` where the model
    refuses the values together)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(first["msg"], field=where.removeprefix(nested) or whole) from None
