"""Readable builders of view models for the document tests: a baby with MCAD-pattern values,
a plate, a month of submitting units. Names and places are fictional.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reports.letter import RecallLetter, ReferralClinic, SuspectedDisorder
from reports.models import (
    Baby,
    Contact,
    DocumentInfo,
    DocumentRef,
    Laboratory,
    Lang,
    MarkerValue,
    Specimen,
    Submitter,
)

ISSUED = dt.datetime(2025, 3, 4, 9, 30)
BORN = dt.datetime(2025, 3, 1, 6, 15)


def document(doc_id: str, lang: Lang, **changes: Any) -> DocumentInfo:
    return DocumentInfo(document_id=doc_id, issued_at=ISSUED, lang=lang, **changes)


def correction(doc_id: str, lang: Lang) -> DocumentInfo:
    return document(doc_id, lang, version=2,
                    replaces=DocumentRef(document_id=doc_id, version=1, sha256="ab" * 32),
                    correction_reason="birth weight corrected from 1,250 g to 3,250 g")


def laboratory(lang: Lang) -> Laboratory:
    if lang == "zh-CN":
        return Laboratory(name="江南市新生儿疾病筛查中心", address="江南市健康路18号",
                          phone="0571-8800 1234")
    return Laboratory(name="Riverside Newborn Screening Laboratory",
                      address="18 Health Road, Riverside", phone="+86 571 8800 1234")


def submitter(lang: Lang) -> Submitter:
    if lang == "zh-CN":
        return Submitter(code="H07", name="江南市妇幼保健院", district="西湖区")
    return Submitter(code="H07", name="Riverside Maternity Hospital", district="West Lake")


def baby(lang: Lang) -> Baby:
    return Baby(
        name="王芳之子" if lang == "zh-CN" else "Baby boy of Wang Fang (王芳)",
        sex="M", birth_at=BORN, birth_weight_g=3250, gestational_age_weeks=39,
        mother_name="王芳" if lang == "zh-CN" else "Wang Fang", infant_id="INF-2025-004711")


def specimen(lang: Lang, **changes: Any) -> Specimen:
    values: dict[str, Any] = dict(
        specimen_id="S-2025-031877", card_barcode="250301077", kind="initial",
        collected_at=dt.datetime(2025, 3, 2, 8, 0), received_at=dt.datetime(2025, 3, 3, 10, 20),
        submitter=submitter(lang))
    values.update(changes)
    return Specimen(**values)


def mcad_markers() -> tuple[MarkerValue, ...]:
    return (
        MarkerValue(marker="C8", value=2.84, cutoff=0.3, direction="high", tier="critical"),
        MarkerValue(marker="C8/C10", value=9.6, cutoff=2.0, direction="high", unit="",
                    tier="positive"),
        MarkerValue(marker="C6", value=0.61, cutoff=0.2, direction="high", tier="positive"),
    )


def recall_letter(lang: Lang, audience: str = "clinic", **changes: Any) -> RecallLetter:
    zh = lang == "zh-CN"
    values: dict[str, Any] = dict(
        document=document(f"LTR-2025-00042-{audience}", lang),
        laboratory=laboratory(lang), audience=audience, case_id="CASE-2025-0042",
        baby=baby(lang), specimen=specimen(lang),
        disorders=(SuspectedDisorder(code="MCAD", first_tier="critical",
                                     markers=mcad_markers()),),
        action="immediate_referral", time_critical=True,
        due_by=dt.datetime(2025, 3, 4, 18, 0),
        clinic=ReferralClinic(
            name="江南市儿童医院遗传代谢科" if zh else "Riverside Children's Hospital, "
                                                    "Metabolic Clinic",
            address="江南市学院路57号" if zh else "57 College Road, Riverside",
            phone="0571-8700 5678"),
        contacts=(
            Contact(name="李敏" if zh else "Li Min", role="随访协调员" if zh else
                    "Follow-up coordinator", phone="0571-8800 1299",
                    hours="8:00-17:30"),
            Contact(name="遗传代谢科值班医生" if zh else "Metabolic doctor on call",
                    role="24小时" if zh else "24 hours", phone="0571-8700 5000"),
        ),
        signed_by="张伟 主任" if zh else "Dr Zhang Wei, Laboratory Director",
    )
    values.update(changes)
    return RecallLetter(**values)


def disorder_results(flagged: dict[str, dict[str, Any]] | None = None) -> tuple[Any, ...]:
    """A call for every catalogue disorder: normal, except the ``flagged`` codes."""
    from msms.catalogue import default_catalogue
    from reports.result import DisorderResult

    flagged = flagged or {}
    rows = []
    for disorder in default_catalogue().disorders:
        values: dict[str, Any] = dict(code=disorder.code, first_tier="normal", final="negative",
                                      action="none")
        values.update(flagged.get(disorder.code, {}))
        rows.append(DisorderResult(**values))
    return tuple(rows)


MCAD_CALL = dict(first_tier="critical", final="positive", action="immediate_referral",
                 reasons="C8=2.84>0.30; C8/C10=9.6>2.0; C6=0.61>0.20",
                 markers=mcad_markers())


def specimen_result(lang: Lang, *, flagged: bool = True, **changes: Any) -> Any:
    from reports.result import SpecimenResult

    values: dict[str, Any] = dict(
        baby=baby(lang), specimen=specimen(lang),
        results=disorder_results({"MCAD": MCAD_CALL} if flagged else None),
        method="FIA-MS/MS, nonderivatized 0.1.0-default",
        cutoff_version="rules 2025.1 / lab table 2025-02",
        model_version="second-tier 2025.02-rf" if flagged else None,
        released_by="张伟" if lang == "zh-CN" else "Dr Zhang Wei",
        released_at=dt.datetime(2025, 3, 4, 9, 10),
        reviewed_by="陈静" if lang == "zh-CN" else "Dr Chen Jing")
    values.update(changes)
    return SpecimenResult(**values)


def result_report(lang: Lang, *, flagged: bool = True, **changes: Any) -> Any:
    from reports.result import ResultReport

    values: dict[str, Any] = dict(document=document("RES-2025-031877", lang),
                                  laboratory=laboratory(lang),
                                  result=specimen_result(lang, flagged=flagged))
    values.update(changes)
    return ResultReport(**values)


def batch_report(lang: Lang, count: int = 3) -> Any:
    from reports.result import BatchResultReport

    results = []
    for i in range(count):
        spec = specimen(lang, specimen_id=f"S-2025-0319{i:02d}", card_barcode=f"2503010{i:02d}",
                        notes=("early_collection",) if i == 1 else ())
        results.append(specimen_result(lang, flagged=(i == 0), specimen=spec))
    return BatchResultReport(document=document("BAT-2025-0007", lang),
                             laboratory=laboratory(lang), submitter=submitter(lang),
                             results=tuple(results))
