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
                             released_on=dt.date(2025, 3, 4), results=tuple(results))


def qc_report(lang: Lang, decision: str = "accept_with_warnings", **changes: Any) -> Any:
    """A 96-well plate: a blank, low and high controls, patients; one well with a low internal
    standard (not reportable), a C8 low control breaking 1-2s; four control series."""
    import random

    from reports.qc import ControlSeries, ControlValue, QcFinding, QcReport, SeriesPoint, Well

    rng = random.Random(17)
    special = {"A01": ("blank", "BLANK"), "A02": ("qc_low", "VQC-L-2501"),
               "A03": ("qc_high", "VQC-H-2501"), "H12": ("empty", "")}
    wells = []
    for r in "ABCDEFGH":
        for c in range(1, 13):
            name = f"{r}{c:02d}"
            kind, sample = special.get(name, ("patient", f"2503010{len(wells):02d}"))
            status = "empty" if kind == "empty" else "ok"
            signal = None if kind == "empty" else round(rng.uniform(72, 128))
            if name == "D07":
                status, signal = "not_reportable", 21
            elif name == "A02":
                status = "warning"
            wells.append(Well(well=name, sample_type=kind, sample_id=sample, status=status,
                              is_signal_pct=signal))
    targets = {"Phe": (45.0, 4.5, 400.0, 30.0), "C8": (0.08, 0.012, 1.5, 0.12),
               "C3": (1.6, 0.16, 12.0, 1.0), "C5DC+C6OH": (0.09, 0.012, 1.2, 0.1)}
    controls, series = [], []
    for analyte, (lo_mean, lo_sd, hi_mean, hi_sd) in targets.items():
        for level, lot, well, mean, sd in (("low", "VQC-L-2501", "A02", lo_mean, lo_sd),
                                           ("high", "VQC-H-2501", "A03", hi_mean, hi_sd)):
            z = 2.4 if (analyte, level) == ("C8", "low") else rng.uniform(-1.2, 1.2)
            flags = ("1-2s",) if z > 2 else ()
            controls.append(ControlValue(lot=lot, level=level, analyte=analyte, well=well,
                                         value_umol_l=mean + z * sd, target_mean_umol_l=mean,
                                         target_sd_umol_l=sd, flags=flags))
            if level == "low":
                history = [SeriesPoint(run_id=f"R{i:03d}", value_umol_l=mean + rng.gauss(0, 1) * sd)
                           for i in range(19)]
                history.append(SeriesPoint(run_id="R-2025-0311", value_umol_l=mean + z * sd,
                                           current=True, flags=flags))
                series.append(ControlSeries(lot=lot, level=level, analyte=analyte,
                                            mean_umol_l=mean, sd_umol_l=sd,
                                            points=tuple(history)))
    findings = (  # as the plate QC stores them (msms.qc.messages)
        QcFinding(severity="warning", code="plate_qc",
                  message="westgard: C8 1-2s (lot VQC-L-2501): z = +2.40 (A02)"),
        QcFinding(severity="warning", code="plate_qc",
                  message="internal_standard: well D07 (patient 250301042): not reportable: "
                          "D3-C8: internal standard low (21% of the plate median) -> C6, C8, "
                          "C10"),
    )
    values: dict[str, Any] = dict(
        document=document("QC-R-2025-0311", lang), laboratory=laboratory(lang),
        run_id="R-2025-0311", plate_id="P-2025-0311-1", instrument="Xevo TQD #2",
        instrument_run="TQD2-20250311-01", file_name="P-2025-0311-1_TargetLynx.txt",
        method="nonderivatized 0.1.0-default (unverified)", rules="default-plate-qc 0.1.0",
        acquired_at=dt.datetime(2025, 3, 11, 7, 40), wells=tuple(wells),
        controls=tuple(controls), series=tuple(series), findings=findings, decision=decision,
        decided_by="刘洋" if lang == "zh-CN" else "Liu Yang (technician)",
        decided_at=dt.datetime(2025, 3, 11, 9, 5))
    values.update(changes)
    return QcReport(**values)


def _units(lang: Lang) -> list[Any]:
    """Five submitting units with round, hand-checkable counts."""
    from reports.bulletin import Measure, UnitMeasures

    zh = lang == "zh-CN"
    table = [  # code, name, district, births, screened, specimens, unsat, early, transit_h,
        # result_d, recalled, on_time, lost, referred, confirmed, diagnosis_d, treatment_d
        ("H01", "江南市妇幼保健院" if zh else "Riverside Maternity Hospital", "West Lake",
         2000, 1960, 1980, 4, 20, 18.5, 4.2, 8, 8, 0, 3, 1, 11.0, 12.0),
        ("H02", "西湖区人民医院" if zh else "West Lake People's Hospital", "West Lake",
         1000, 950, 960, 12, 48, 30.0, 5.1, 6, 5, 1, 2, 0, None, None),
        ("H03", "滨江医院" if zh else "Binjiang Hospital", "Binjiang",
         800, 790, 800, 2, 8, 22.0, 4.6, 2, 2, 0, 1, 1, 9.0, 9.5),
        ("H04", "萧山妇产医院" if zh else "Xiaoshan Women's Hospital", "Xiaoshan",
         1200, 1150, 1160, 9, 70, 41.5, 5.8, 5, 4, 0, 2, 0, None, None),
        ("H05", "临平社区卫生院" if zh else "Linping Health Centre", "Linping",
         300, 285, 290, 3, 2, 26.0, 4.9, 1, 1, 0, 0, 0, None, None),
    ]
    missed_by_unit = {"H03": 1}  # a baby the screen missed, found clinically
    units = []
    for (code, name, district, births, screened, specimens, unsat, early, transit, result_d,
         recalled, on_time, lost, referred, confirmed, diag, treat) in table:
        def p(num: int, n: int) -> Measure:
            return Measure(value=100 * num / n if n else None, n=n, numerator=num)
        measures = {
            "coverage": p(screened, births), "unsatisfactory_rate": p(unsat, specimens),
            "early_collection": p(early, specimens),
            "transit_time": Measure(value=transit, n=specimens),
            "time_to_result": Measure(value=result_d, n=specimens - unsat),
            "recall_rate": p(recalled, screened), "recall_compliance": p(on_time, recalled),
            "time_to_diagnosis": Measure(value=diag, n=confirmed),
            "time_to_treatment": Measure(value=treat, n=confirmed),
            "lost_to_follow_up": p(lost, recalled),
            "confirmed_cases": Measure(value=confirmed, n=confirmed),
            "missed_cases": Measure(value=missed_by_unit.get(code, 0),
                                    n=missed_by_unit.get(code, 0)),
            "ppv": p(confirmed, referred),
        }
        units.append(UnitMeasures(code=code, name=name, district=district, measures=measures))
    return units


def bulletin(lang: Lang, **changes: Any) -> Any:
    from reports.bulletin import Bulletin, CaseCount, Measure

    units = _units(lang)
    values: dict[str, Any] = dict(
        document=document("BUL-2025-03", lang), laboratory=laboratory(lang),
        programme="江南市新生儿遗传代谢病筛查项目" if lang == "zh-CN"
        else "Riverside newborn screening programme",
        period_start=dt.date(2025, 3, 1), period_end=dt.date(2025, 3, 31),
        programme_measures={
            "coverage": Measure(value=100 * 5135 / 5300, n=5300, numerator=5135),
            "unsatisfactory_rate": Measure(value=100 * 30 / 5190, n=5190, numerator=30),
            "recall_compliance": Measure(value=100 * 20 / 22, n=22, numerator=20),
            "confirmed_cases": Measure(value=2, n=2),
            "missed_cases": Measure(value=1, n=1),
        },
        units=tuple(units),
        confirmed_by_disorder=(CaseCount(code="PKU", cases=1), CaseCount(code="MCAD", cases=1)),
    )
    values.update(changes)
    return Bulletin(**values)
