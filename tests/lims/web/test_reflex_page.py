"""The reflex page: the worklist in order, the upload of a second-tier run and of genotype
results (CSRF, errors shown on the page), English and Simplified Chinese, technicians only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.models import SecondTierRun
from tests.lims.helpers import accession, card, count, upload
from tests.lims.reflex.plates import (
    GenotypingReflexCsvPipeline,
    ReflexCsvPipeline,
    first_tier_plate,
    genotype_csv,
    second_tier_export,
)
from tests.lims.web.conftest import csrf_of, sign_in_page


@pytest.fixture
def reflex_web(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_the_reflex_page_lists_uploads_and_decides(reflex_web, world, tmp_path):
    accession(reflex_web, world, 1, 2)
    plate = first_tier_plate("P-W", {card(1): {"Tyr": 420.0}, card(2): {"Xle": 300.0}})
    assert upload(reflex_web, world, "p-w.csv", plate).status_code == 201
    sign_in_page(reflex_web, "technician")
    page = reflex_web.get("/lab/reflex")
    assert page.status_code == 200
    assert 'href="/lab/reflex"' in page.text  # in the navigation
    rows = page.text.split('id="reflex-worklist"')[1].split("</table>")[0]
    assert rows.index(card(2)) < rows.index(card(1))  # time-critical first
    assert "SUAC-2T" in rows and "aIle" in rows
    chinese = reflex_web.get("/lab/reflex", headers={"Accept-Language": "zh-CN"})
    assert "二级检测工作单" in chinese.text and "时间紧急" in chinese.text

    export = second_tier_export(tmp_path, {card(1): {"SUAC-2T": 5.0}, card(2): {"aIle": 0.5}})
    refused = reflex_web.post("/lab/reflex/runs", files={"file": ("st.txt", export)},
                              data={"csrf_token": "forged"})
    assert refused.status_code == 403
    bad = reflex_web.post("/lab/reflex/runs", files={"file": ("bad.txt", b"no run here")},
                          data={"csrf_token": csrf_of(page.text)})
    assert bad.status_code == 422 and 'id="reflex-error"' in bad.text and "bad.txt" in bad.text
    done = reflex_web.post("/lab/reflex/runs", files={"file": ("st.txt", export)},
                           data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and done.url.path == "/lab/reflex", done.text
    assert card(1) not in done.text.split('id="reflex-worklist"')[1].split("</table>")[0]
    assert "st.txt" in done.text


def test_the_reflex_page_refuses_genotypes_when_the_laboratory_does_not_genotype(
        reflex_web, world, engine):
    """A genotype file posted to a laboratory that does not genotype (a form left open, a
    bookmark) is refused on the page, naming the setting, in English and in Chinese."""
    accession(reflex_web, world, 1)
    assert upload(reflex_web, world, "p-g.csv",
                  first_tier_plate("P-G", {card(1): {"C8": 0.6}})).status_code == 201
    sign_in_page(reflex_web, "technician")
    page = reflex_web.get("/lab/reflex")
    assert 'id="genotypes-off"' in page.text and 'id="genotype-upload"' not in page.text
    data = genotype_csv([(card(1), "ACADM", 2, "")])
    runs = count(engine, SecondTierRun)
    refused = reflex_web.post("/lab/reflex/genotypes", files={"file": ("g.csv", data)},
                              data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409
    error = refused.text.split('id="reflex-error">')[1].split("</p>")[0]
    assert "NBS_REFLEX_GENOTYPES is off" in error and "nothing was stored" in error
    chinese = reflex_web.post("/lab/reflex/genotypes", files={"file": ("g.csv", data)},
                              data={"csrf_token": csrf_of(page.text)},
                              headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 409
    error = chinese.text.split('id="reflex-error">')[1].split("</p>")[0]
    assert "NBS_REFLEX_GENOTYPES 未开启" in error and "未存储任何内容" in error
    assert count(engine, SecondTierRun) == runs


def test_only_the_laboratory_sees_the_reflex_page(reflex_web, world):
    sign_in_page(reflex_web, "reviewer")
    assert reflex_web.get("/lab/reflex").status_code == 403
    assert 'href="/lab/reflex"' not in reflex_web.get("/lab").text


def _section(html: str, table: str) -> str:
    return html.split(f'id="{table}"')[1].split("</table>")[0]


def test_the_specimen_page_shows_the_second_tier(reflex_web, world, tmp_path):
    cards = accession(reflex_web, world, 1, 6, 7)
    plate = first_tier_plate("P-S", {card(1): {"Tyr": 420.0}, card(6): {"C3": 8.0},
                                     card(7): {"C3": 8.0}})
    assert upload(reflex_web, world, "p-s.csv", plate).status_code == 201
    sign_in_page(reflex_web, "reviewer")
    waiting = reflex_web.get(f"/lab/specimens/{cards[1]['id']}")
    assert waiting.status_code == 200
    decisions = _section(waiting.text, "second-tier-decisions")
    # waiting, not a missing result asking for a repeat specimen
    assert 'data-decision="awaiting_second_tier"' in decisions and "NO_RESULT" not in decisions
    assert "waiting for the reflex assays on this card" in decisions
    assert "repeat specimen" not in decisions
    assays = _section(waiting.text, "second-tier-assays")
    assert 'data-assay="SUAC-2T"' in assays and "not measured yet" in assays

    # the run: succinylacetone well below its level clears card 1; card 6 has a methylcitrate
    # past its referral level, card 7 a methylmalonate raised alone (maternal B12 pattern)
    export = second_tier_export(tmp_path, {card(1): {"SUAC-2T": 0.4},
                                           card(6): {"MCA": 9.0},
                                           card(7): {"MMA": 9.0, "tHcy": 22.0}})
    stored = reflex_web.post("/api/v1/second-tier-runs", files={"file": ("st.txt", export)},
                             headers=world.auth("technician"))
    assert stored.status_code == 201, stored.text
    run_id = stored.json()["id"]

    cleared = reflex_web.get(f"/lab/specimens/{cards[1]['id']}").text
    row = _section(cleared, "second-tier-decisions")
    assert 'data-group="TYR" data-decision="clear"' in row
    assert "succinylacetone normal and only tyrosinaemia type 1 flagged" in row
    assert "TYR_SUAC_EXCLUDES_TYR1" in row
    suac = _section(cleared, "second-tier-assays").split('data-assay="SUAC-2T"')[1]
    suac = suac.split("</tr>")[0]
    value = float(suac.split("<td>")[1].split()[0])
    assert 0.2 < value < 0.8 and f"run {run_id}, 1 well)" in suac
    assert f"{suac.split('<td>')[1].split()[0]} µmol/L" in suac  # the unit with the value
    assert "<th>Result</th>" in cleared  # a genotype is no concentration: no unit above
    assert "&ge; 2.0 &rarr; referral" in suac and "(reached)" not in suac

    referred = reflex_web.get(f"/lab/specimens/{cards[6]['id']}").text
    assert 'data-group="C3" data-decision="referral"' in referred
    mca = _section(referred, "second-tier-assays").split('data-assay="MCA"')[1].split("</tr>")[0]
    assert "(reached)" in mca and "referral" in mca

    b12 = reflex_web.get(f"/lab/specimens/{cards[7]['id']}",
                         headers={"Accept-Language": "zh-CN"}).text
    assert "反射式二级检测" in b12
    assert 'data-decision="maternal_b12"' in b12 and "母亲维生素B12缺乏模式" in b12
    assert "C3_B12_PATTERN" in b12


def test_a_card_without_a_second_tier_shows_none(reflex_web, world):
    cards = accession(reflex_web, world, 3)
    assert upload(reflex_web, world, "p-n.csv",
                  first_tier_plate("P-N", {card(3): {}})).status_code == 201
    sign_in_page(reflex_web, "reviewer")
    page = reflex_web.get(f"/lab/specimens/{cards[3]['id']}")
    assert page.status_code == 200 and 'id="second-tier"' not in page.text


def test_the_genotype_form_checks_csrf_and_shows_a_malformed_file(settings, engine, world):
    app = create_app(settings, engine, pipeline=GenotypingReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as web:
        accession(web, world, 21)
        plate = first_tier_plate("P-G", {card(21): {"C8": 0.6}})
        assert upload(web, world, "p-g.csv", plate).status_code == 201
        sign_in_page(web, "technician")
        page = web.get("/lab/reflex")
        assert 'id="genotype-upload"' in page.text and "Upload genotype results" in page.text
        good = genotype_csv([(card(21), "ACADM", 0, ""), (card(21), "ACADVL", 0, "")])
        refused = web.post("/lab/reflex/genotypes", files={"file": ("g.csv", good)},
                           data={"csrf_token": "forged"})
        assert refused.status_code == 403
        bad = genotype_csv([(card(21), "ACADM", 0, ""), (card(21), "ACADVL", 3, "")])
        shown = web.post("/lab/reflex/genotypes", files={"file": ("bad.csv", bad)},
                         data={"csrf_token": csrf_of(page.text)},
                         headers={"Accept-Language": "zh-CN"})
        assert shown.status_code == 422 and 'id="reflex-error"' in shown.text
        assert "bad.csv:3" in shown.text and "variants_detected" in shown.text
        assert "上传基因型结果" in shown.text
        assert card(21) in _section(shown.text, "reflex-worklist")  # nothing stored
        done = web.post("/lab/reflex/genotypes", files={"file": ("g.csv", good)},
                        data={"csrf_token": csrf_of(page.text)})
        assert done.status_code == 200 and done.url.path == "/lab/reflex", done.text
        assert card(21) not in _section(done.text, "reflex-worklist")


def test_the_page_says_when_the_reflex_second_tier_and_genotypes_are_off(web, world):
    sign_in_page(web, "technician")  # CsvPipeline: no reflex second tier
    page = web.get("/lab/reflex").text
    assert 'id="reflex-off"' in page and "NBS_REFLEX=true" in page
    assert 'id="reflex-upload"' not in page and 'id="genotype-upload"' not in page
    assert 'id="genotypes-off"' in page
    chinese = web.get("/lab/reflex", headers={"Accept-Language": "zh-CN"}).text
    assert "反射式二级检测未开启" in chinese


def test_the_genotype_form_is_offered_only_when_genotypes_are_imported(
        reflex_web, settings, engine, world):  # type: ignore[no-untyped-def]
    sign_in_page(reflex_web, "technician")
    page = reflex_web.get("/lab/reflex").text
    assert 'id="reflex-off"' not in page and 'id="reflex-upload"' in page
    assert 'id="genotype-upload"' not in page and 'id="genotypes-off"' in page
    app = create_app(settings, engine, pipeline=GenotypingReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        sign_in_page(client, "technician")
        page = client.get("/lab/reflex").text
    assert 'id="genotype-upload"' in page and 'id="genotypes-off"' not in page
