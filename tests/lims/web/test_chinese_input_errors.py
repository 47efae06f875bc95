"""A Chinese page shows its input errors in Chinese, as the stored texts are (phrases read back
through the catalogue): a card number's check digit or format, the card data a tested card
can no longer change (its state as a label), an instrument file no profile reads, with the
page's advice rather than the command line's."""

from __future__ import annotations

from typing import Any

import instruments
from tests.lims.helpers import card
from tests.lims.plates import CsvPipeline, plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession, _upload

ZH = {"Accept-Language": "zh-CN"}


def test_the_accession_errors_read_in_chinese(web, world):
    csrf = sign_in_page(web, "technician")
    mistyped = card(8)[:-1] + str((int(card(8)[-1]) + 1) % 10)
    check = web.get("/lab/accession/barcode", params={"barcode": mistyped}, headers=ZH).text
    assert "的校验位为" in check and "血片编号可能输错了" in check and "probably" not in check
    english = web.get("/lab/accession/barcode", params={"barcode": mistyped}).text
    assert "the card number was probably mistyped" in english
    shape = web.get("/lab/accession/barcode", params={"barcode": "12ab"}, headers=ZH).text
    assert "不符合血片编号格式" in shape and "does not match" not in shape
    assert _accession(web, csrf, card(8)).status_code == 201
    assert _upload(web, csrf, "p.csv", plate_csv("Z-1", {card(8): {}})).status_code == 303
    header = "barcode,submitter,collected_at,birth_at,sex\n"
    changed = header + f"{card(8)},NORTH,2026-03-02T21:00Z,2026-03-01T08:00Z,F\n"
    refused = web.post("/lab/accession/import", data={"csrf_token": csrf}, headers=ZH,
                       files={"file": ("cards8.csv", changed.encode(), "text/csv")})
    assert refused.status_code == 422
    shown = refused.text.split('id="import-error">')[1].split("</p>")[0]
    assert shown == (f"cards8.csv:2，字段 collected_at：血片 {card(8)} 已为“待审核”："
                     "其血片资料不能再更改"), shown


class _ReadsExports(CsvPipeline):
    """The test pipeline, but a file that is not a test plate is read as the service reads an
    instrument's export (``instruments.read``, its format detected)."""

    def screen(self, data: bytes, file_name: str, **options: Any) -> Any:
        if not data.startswith(b"# plate_id="):
            instruments.read(data, name=file_name)
        return super().screen(data, file_name, **options)


def test_an_instrument_file_no_profile_reads_gets_the_page_s_advice(web, world):
    web.app.state.pipeline = _ReadsExports()  # type: ignore[attr-defined]
    csrf = sign_in_page(web, "technician")
    export = b"Sample;Foo;Bar\nS1;1;2\n"  # a delimited file of no known layout
    english = _upload(web, csrf, "export.csv", export)
    assert english.status_code == 422
    assert "ask an administrator to add a profile" in english.text
    assert "--profile" not in english.text and "(nbs)" not in english.text
    web.cookies.set("nbs_lang", "zh_CN")
    chinese = _upload(web, csrf, "export.csv", export)
    shown = chinese.text.split('id="upload-error">')[1].split("</p>")[0]
    assert shown.startswith(
        "export.csv:1，字段 file：本实验室的仪器配置均不符合此文件的表头"), shown
    assert "请管理员添加" in shown and "Upload the export" not in shown
