"""The follow-up case forms to the follow-up domain's request models: a contact attempt, a
transition (referral, diagnosis, treatment, closure) and a visit. A value the model refuses is
an ``InvalidInputError`` naming the form's field; blank fields are left out; times are typed
on the laboratory's clock (``zone``) and passed on in UTC.

Public names: ``contact_from_form``, ``transition_from_form``, ``visit_from_form``.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

from lims.followup.schemas import ContactIn, TransitionIn, VisitIn
from lims.web.forms import form_time, optional, validated

__all__ = ["contact_from_form", "transition_from_form", "visit_from_form"]

def _fields(form: FormData, names: tuple[str, ...], times: tuple[str, ...],
            zone: ZoneInfo) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in names:
        value = form_time(form, name, zone) if name in times else optional(form, name)
        if value is not None:
            body[name] = value
    return body


def contact_from_form(form: FormData, zone: ZoneInfo) -> ContactIn:
    """A contact attempt: how, whom, with what result, when (default now), a note."""
    return validated(ContactIn, _fields(form, ("at", "method", "contacted", "result", "note"),
                                        ("at",), zone))


def transition_from_form(form: FormData, zone: ZoneInfo) -> TransitionIn:
    """A transition with what it records (the clinic and appointment of a referral, the outcome,
    disorder, severity and confirmatory tests of a diagnosis, the treatment's description)."""
    body = _fields(form, ("transition", "at", "reason", "clinic_id", "appointment_at",
                          "outcome", "disorder", "severity", "confirmatory_tests",
                          "description"),
                   ("at", "appointment_at"), zone)
    body.setdefault("transition", "")
    return validated(TransitionIn, body)


def visit_from_form(form: FormData, zone: ZoneInfo) -> VisitIn:
    """A long-term follow-up visit: its kind, when (default now), the findings."""
    return validated(VisitIn, _fields(form, ("kind", "visit_at", "findings"), ("visit_at",), zone))
