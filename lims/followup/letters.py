"""The data of a recall letter about a follow-up case (``case_letter_view``), for the documents
that render it (docs/followup.md "For documents"): it quotes what the letter quotes, only a
released result (``lims.documents.views.quoted_result``).

Public names: ``case_letter_view``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from lims.accession.repository import infants_by_ids
from lims.audit import Actor
from lims.documents.views import quoted_result
from lims.followup.schemas import CaseLetterView
from lims.followup.service import catalogue, get_case
from lims.models import Clinic, Infant, Specimen, Submitter
from lims.vocabulary import CaseReason, CaseState

__all__ = ["case_letter_view"]


def case_letter_view(session: Session, actor: Actor, case_id: int) -> CaseLetterView:
    """The data of a recall letter about a case (the read is audited)."""
    case = get_case(session, actor, case_id)
    specimen = session.get(Specimen, case.specimen_id)
    infant = infants_by_ids(session, [case.infant_id])[case.infant_id]
    submitter = session.get(Submitter, case.submitter_id)
    assert specimen is not None and submitter is not None and specimen.id is not None
    clinic = session.get(Clinic, case.clinic_id) if case.clinic_id else None
    known = catalogue()
    # only what the recall letter quotes: a released result (lims.documents.views)
    quoted = quoted_result(session, case)
    mine = [c for c in quoted.calls if c.disorder in (case.suspected or [])]
    return CaseLetterView(
        case_id=case_id, state=CaseState(case.state), reason=CaseReason(case.reason),
        referral_group=case.referral_group, time_critical=case.time_critical,
        baby=_baby(infant), submitter={"code": submitter.code, "name": submitter.name,
                                       "district": submitter.district},
        specimen={"barcode": specimen.barcode, "collected_at": specimen.collected_at,
                  "received_at": specimen.received_at, "kind": specimen.kind,
                  "unsatisfactory_code": specimen.unsatisfactory_code},
        suspected=[{"code": d, "name": known[d].name if d in known else d}
                   for d in case.suspected or []],
        calls=[{"disorder": c.disorder, "first_tier": c.first_tier, "final": c.final,
                "reasons": c.reasons, "time_critical": c.time_critical} for c in mine],
        values_umol_l=quoted.values, result_pending=quoted.pending,
        due_action=case.due_action, due_at=case.due_at,
        clinic=None if clinic is None else {"code": clinic.code, "name": clinic.name,
                                            "phone": clinic.phone, "district": clinic.district},
        appointment_at=case.appointment_at)


def _baby(infant: Infant) -> dict[str, Any]:
    return {"infant_id": infant.id, "birth_at": infant.birth_at, "sex": infant.sex,
            "birth_weight_g": infant.birth_weight_g,
            "gestational_age_weeks": infant.gestational_age_weeks,
            "mother_name": infant.mother_name,
            "medical_record_number": infant.medical_record_number}
