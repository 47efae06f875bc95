"""Documents: 1,000 result reports (target under 30 s), and one monthly bulletin over a simulated
month of 100,000 specimens (target under 10 s, building the view model from the simulated
records included).

- Result reports: 1,000 view models (every one of the 46 disorders called, one in ten with an
  out-of-range MCAD call and its markers, names and card numbers varying), rendered one PDF
  each, in English and in Chinese, one after another in this process. Rendering is CPU-bound,
  so the process's CPU time is reported beside the wall time (and per report): on the shared
  machine other jobs stretch the wall time, not the work.
- Batch reports: the same 1,000 specimens as 20 batch reports of 50 (one PDF per submitting
  unit's day: a summary, then each specimen's section), in both languages.
- Bulletin: a month of 100,000 first specimens from 60 submitting units in 8 districts is
  simulated (numpy; each unit has its own coverage, unsatisfactory and early-collection rates,
  transit times and recall compliance), the programme measures are computed per unit, per
  district and for the programme (pandas), the view model is built and the bulletin rendered.
  Simulating the records is not timed; computing the measures (the LIMS's part) is reported on
  its own row.

``simulate_month``, ``month_measures`` and ``bulletin_from_month`` are also what the document
tests use to check that a bulletin prints the measures computed directly.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msms.catalogue import default_catalogue
from reports.bulletin import Bulletin, CaseCount, Measure, UnitMeasures, render_bulletin
from reports.models import (
    Baby,
    DocumentInfo,
    Laboratory,
    Lang,
    MarkerValue,
    Specimen,
    Submitter,
)
from reports.result import (
    BatchResultReport,
    DisorderResult,
    ResultReport,
    SpecimenResult,
    render_batch_report,
    render_result_report,
)

REPORTS = 1_000
BATCH = 50
MONTH_SPECIMENS = 100_000
START = dt.date(2025, 3, 1)
END = dt.date(2025, 3, 31)


@dataclass(frozen=True)
class Month:
    """A simulated month: one row per first specimen, one per recalled baby, the units."""

    specimens: pd.DataFrame
    recalls: pd.DataFrame
    units: pd.DataFrame
    live_births: pd.Series


def simulate_month(n: int = MONTH_SPECIMENS, *, units: int = 60, districts: int = 8,
                   seed: int = 2025) -> Month:
    """First specimens of one month with their timings and outcomes (numpy, vectorised)."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "unit": [f"U{u:03d}" for u in range(units)],
        "name": [f"Unit {u:03d} Maternity" for u in range(units)],
        "district": [f"District {1 + u % districts}" for u in range(units)],
        "weight": rng.gamma(2.0, 1.0, units),
        "unsat_rate": rng.beta(2, 400, units),
        "early_rate": rng.beta(2, 60, units),
        "transit_mean_h": rng.gamma(6, 5, units),
        "coverage": rng.uniform(0.93, 0.995, units),
        "compliance": rng.beta(60, 2, units),
    }).set_index("unit")
    unit_of = rng.choice(table.index.to_numpy(), size=n, p=table.weight / table.weight.sum())
    profile = table.loc[unit_of]
    early = rng.random(n) < profile.early_rate.to_numpy()
    age_h = np.where(early, rng.uniform(6, 24, n), rng.lognormal(np.log(60), 0.3, n))
    transit_h = rng.gamma(2.0, profile.transit_mean_h.to_numpy() / 2.0)
    recalled = rng.random(n) < 0.004
    specimens = pd.DataFrame({
        "unit": unit_of, "district": profile.district.to_numpy(),
        "age_h": age_h, "transit_h": transit_h,
        "unsatisfactory": rng.random(n) < profile.unsat_rate.to_numpy(),
        "early": age_h < 24,
        "result_age_d": (age_h + transit_h + rng.gamma(3, 8, n)) / 24,
        "recalled": recalled,
    })
    live_births = (specimens.groupby("unit").size() / table.coverage).round().astype(int)
    recalls = _recalls(specimens[recalled], table, rng)
    return Month(specimens, recalls, table, live_births)


def _recalls(recalled: pd.DataFrame, table: pd.DataFrame,
             rng: np.random.Generator) -> pd.DataFrame:
    m = len(recalled)
    referred = rng.random(m) < 0.35
    confirmed = referred & (rng.random(m) < 0.12)
    codes = [d.code for d in default_catalogue().disorders]
    diagnosis_d = rng.lognormal(np.log(12), 0.4, m)
    return pd.DataFrame({
        "unit": recalled.unit.to_numpy(), "district": recalled.district.to_numpy(),
        "on_time": rng.random(m) < table.loc[recalled.unit, "compliance"].to_numpy(),
        "lost": rng.random(m) < 0.02,
        "referred": referred, "confirmed": confirmed,
        "disorder": np.where(confirmed, rng.choice(codes, size=m), ""),
        "diagnosis_d": np.where(confirmed, diagnosis_d, np.nan),
        "treatment_d": np.where(confirmed, diagnosis_d + rng.gamma(2, 0.7, m), np.nan),
    })


def _proportion(numerator: int, n: int) -> Measure:
    return Measure(value=100 * numerator / n if n else None, n=n, numerator=numerator)


def _median(values: pd.Series) -> Measure:
    clean = values.dropna()
    return Measure(value=float(clean.median()) if len(clean) else None, n=len(clean))


def _measures(spec: pd.DataFrame, rec: pd.DataFrame, births: int) -> dict[str, Measure]:
    satisfactory = int((~spec.unsatisfactory).sum())
    referred = int(rec.referred.sum())
    confirmed = int(rec.confirmed.sum())
    return {
        "coverage": _proportion(min(satisfactory, births), births),
        "unsatisfactory_rate": _proportion(int(spec.unsatisfactory.sum()), len(spec)),
        "early_collection": _proportion(int(spec.early.sum()), len(spec)),
        "transit_time": _median(spec.transit_h),
        "time_to_result": _median(spec.result_age_d),
        "recall_rate": _proportion(len(rec), len(spec)),
        "recall_compliance": _proportion(int(rec.on_time.sum()), len(rec)),
        "time_to_diagnosis": _median(rec.diagnosis_d),
        "time_to_treatment": _median(rec.treatment_d),
        "lost_to_follow_up": _proportion(int(rec.lost.sum()), len(rec)),
        "confirmed_cases": Measure(value=float(confirmed), n=confirmed),
        "ppv": _proportion(confirmed, referred),
    }


def month_measures(month: Month) -> tuple[dict[str, Measure], list[UnitMeasures],
                                          list[UnitMeasures]]:
    """The programme's measures, each unit's and each district's (what the LIMS computes)."""
    spec_by_unit = dict(tuple(month.specimens.groupby("unit")))
    rec_by_unit = dict(tuple(month.recalls.groupby("unit")))
    empty = month.recalls.iloc[0:0]
    units = [UnitMeasures(code=str(code), name=str(row["name"]), district=str(row.district),
                          measures=_measures(spec_by_unit[code], rec_by_unit.get(code, empty),
                                             int(month.live_births[code])))
             for code, row in month.units.iterrows() if code in spec_by_unit]
    births_by_district = month.live_births.groupby(month.units.district).sum()
    rec_by_district = dict(tuple(month.recalls.groupby("district")))
    districts = [UnitMeasures(code=str(d), name=str(d),
                              measures=_measures(group, rec_by_district.get(d, empty),
                                                 int(births_by_district[d])))
                 for d, group in month.specimens.groupby("district")]
    programme = _measures(month.specimens, month.recalls, int(month.live_births.sum()))
    return programme, units, districts


def bulletin_from_month(month: Month, lang: Lang, *,
                        measures: tuple[dict[str, Measure], list[UnitMeasures],
                                        list[UnitMeasures]] | None = None) -> Bulletin:
    """The bulletin's view model over a simulated month."""
    programme, units, districts = measures or month_measures(month)
    cases = month.recalls[month.recalls.confirmed].disorder.value_counts()
    zh = lang == "zh-CN"
    return Bulletin(
        document=DocumentInfo(document_id="BUL-2025-03", issued_at=dt.datetime(2025, 4, 3, 9),
                              lang=lang),
        laboratory=Laboratory(name="江南市新生儿疾病筛查中心" if zh
                              else "Riverside Newborn Screening Laboratory"),
        programme="江南市新生儿遗传代谢病筛查项目" if zh else "Riverside newborn screening",
        period_start=START, period_end=END, programme_measures=programme,
        districts=tuple(districts), units=tuple(units),
        confirmed_by_disorder=tuple(CaseCount(code=str(c), cases=int(k))
                                    for c, k in cases.items()))


def result_reports(count: int, lang: Lang) -> list[ResultReport]:
    """``count`` result-report view models: every disorder called, one in ten out of range."""
    codes = [d.code for d in default_catalogue().disorders]
    lab = Laboratory(name="江南市新生儿疾病筛查中心" if lang == "zh-CN"
                     else "Riverside Newborn Screening Laboratory")
    born = dt.datetime(2025, 3, 1, 6, 0)
    out = []
    for i in range(count):
        flagged = i % 10 == 0
        results = tuple(
            DisorderResult(code=c, first_tier="positive", final="positive",
                           action="immediate_referral", reasons=f"C8={0.5 + i % 7 / 10:.2f}>0.30",
                           markers=(MarkerValue(marker="C8", value=0.5 + i % 7 / 10,
                                                cutoff=0.3, direction="high",
                                                tier="positive"),))
            if flagged and c == "MCAD" else
            DisorderResult(code=c, first_tier="normal", final="negative", action="none")
            for c in codes)
        submitter = Submitter(code=f"U{i % 60:03d}", name=f"Unit {i % 60:03d} Maternity",
                              district=f"District {1 + i % 8}")
        specimen = Specimen(specimen_id=f"S-2025-{i:06d}", card_barcode=f"2503{i:07d}",
                            collected_at=born + dt.timedelta(hours=30 + i % 40),
                            received_at=born + dt.timedelta(hours=60 + i % 40),
                            submitter=submitter)
        name = (f"王{'芳丽娜静敏'[i % 5]}之{'子女'[i % 2]}" if lang == "zh-CN"
                else f"Baby of Mother {i}")
        result = SpecimenResult(
            baby=Baby(name=name, sex="MF"[i % 2], birth_at=born, birth_weight_g=2500 + i % 1500,
                      gestational_age_weeks=37 + i % 4),
            specimen=specimen, results=results, method="FIA-MS/MS nonderivatized 0.1.0",
            cutoff_version="rules 2025.1", model_version="second-tier 2025.02",
            released_by="Dr Zhang Wei", released_at=born + dt.timedelta(days=3))
        out.append(ResultReport(
            document=DocumentInfo(document_id=f"RES-{i:06d}",
                                  issued_at=born + dt.timedelta(days=3), lang=lang),
            laboratory=lab, result=result))
    return out


def _time_reports(lang: Lang) -> tuple[float, float, int]:
    """Wall and CPU seconds to render the reports, and their total size."""
    models = result_reports(REPORTS, lang)
    render_result_report(models[0])  # fonts loaded, wording read
    start, cpu = time.perf_counter(), time.process_time()
    size = sum(len(render_result_report(m)) for m in models)
    return time.perf_counter() - start, time.process_time() - cpu, size


def batch_reports(models: list[ResultReport], size: int) -> list[BatchResultReport]:
    """``models`` cut into batch reports of ``size`` specimens (the first one's document)."""
    return [BatchResultReport(document=part[0].document.model_copy(
                                  update={"document_id": f"BAT-{i:04d}"}),
                              laboratory=part[0].laboratory,
                              submitter=part[0].result.specimen.submitter,
                              results=tuple(m.result for m in part))
            for i, part in enumerate(models[j:j + size] for j in range(0, len(models), size))]


def _time_batches(lang: Lang) -> tuple[float, float]:
    """Wall and CPU seconds to render the 1,000 specimens as batch reports."""
    batches = batch_reports(result_reports(REPORTS, lang), BATCH)
    render_batch_report(batches[0])
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        render_batch_report(batch)
    return time.perf_counter() - start, time.process_time() - cpu


def run() -> list[tuple[str, float, str, str]]:
    rows: list[tuple[str, float, str, str]] = []
    for lang in ("en", "zh-CN"):
        seconds, cpu, size = _time_reports(lang)
        rows += [(f"reports: {REPORTS:,} result reports ({lang}), wall", seconds, "s", "< 30 s"),
                 (f"reports: {REPORTS:,} result reports ({lang}), CPU of this process", cpu,
                  "s", "< 30 s"),
                 (f"reports: result report ({lang}), CPU per report", cpu / REPORTS * 1000,
                  "ms", ""),
                 (f"reports: result report ({lang}), mean PDF size", size / REPORTS / 1024,
                  "KiB", "")]
    for lang in ("en", "zh-CN"):
        seconds, cpu = _time_batches(lang)
        rows += [(f"reports: {REPORTS:,} specimens in batch reports of {BATCH} ({lang}), wall",
                  seconds, "s", "< 30 s"),
                 (f"reports: {REPORTS:,} specimens in batch reports of {BATCH} ({lang}), CPU",
                  cpu, "s", "< 30 s")]
    month = simulate_month()
    render_bulletin(bulletin_from_month(simulate_month(2_000, seed=1), "zh-CN"))  # warm
    for lang in ("en", "zh-CN"):
        start = time.perf_counter()
        measures = month_measures(month)
        computed = time.perf_counter()
        pdf = render_bulletin(bulletin_from_month(month, lang, measures=measures))
        done = time.perf_counter()
        rows += [(f"reports: bulletin, {MONTH_SPECIMENS:,} specimens ({lang}), measures + "
                  "view model + PDF", done - start, "s", "< 10 s"),
                 (f"reports: bulletin ({lang}), computing the measures", computed - start, "s",
                  ""),
                 (f"reports: bulletin ({lang}), PDF size", len(pdf) / 1024, "KiB", "")]
    return rows
