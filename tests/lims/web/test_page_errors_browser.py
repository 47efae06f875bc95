"""The errors of the forms a technician and a reviewer use most, on Chinese pages in a real
browser (Debian's Chromium driven by Playwright against the app served by uvicorn on SQLite
with the real pipeline, as ``test_browser.py``): an empty instrument file, two new passwords
that differ, a decision without its reason and one signed with a wrong password. Each is shown
in Chinese with the field it names. Screenshots go to ``test-artefacts/browser/zh-CN/``."""

from __future__ import annotations

import pytest

from tests.lims.conftest import PASSWORD
from tests.lims.web.test_browser import (  # noqa: F401
    _shot,
    _sign_in,
    browser,
    offline_page,
    served,
)
from tests.lims.web.test_case_browser import _plate_and_clinic
from tests.lims.web.test_chinese_stored_texts import english_left

playwright_api = pytest.importorskip("playwright.sync_api")


def test_the_forms_errors_read_in_chinese_in_the_browser(served, browser,  # noqa: F811
                                                          tmp_path):
    base, submitters = served
    _plate_and_clinic(tmp_path / "nbs.db", tmp_path, submitters[0], "zh-CN")
    page, foreign = offline_page(browser, base, "zh-CN")

    _sign_in(page, base, "technician")
    page.goto(f"{base}/lab/runs")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    page.set_input_files("#upload-form input[name=file]", str(empty))
    page.click("#upload-submit")
    page.wait_for_selector("#upload-error")
    assert page.inner_text("#upload-error") == "empty.csv：文件为空"
    _shot(page, "zh-CN", "20-upload-error")

    page.goto(f"{base}/lab/password")
    page.fill("input[name=current_password]", PASSWORD)
    page.fill("input[name=new_password]", "a-new-long-password")
    page.fill("input[name=new_password_again]", "another-long-password")
    page.click("main form button[type=submit]")
    page.wait_for_selector("p.error")
    assert page.inner_text("p.error") == "字段 new_password_again：两次输入的新密码不一致"
    _shot(page, "zh-CN", "21-password-error")
    page.click("#sign-out")

    _sign_in(page, base, "reviewer")
    page.goto(f"{base}/lab/review")
    page.locator("#queue a").first.click()
    page.wait_for_selector("#decision-form")
    page.check("input[name=decision][value=refer]")
    page.fill("#decision-form input[name=password]", PASSWORD)
    page.click("#decision-submit")
    page.wait_for_selector("#decision-error")
    assert page.inner_text("#decision-error") == "字段 reason：请填写此决定的原因"
    assert page.inner_text("#decision-form-error") == "字段 reason：请填写此决定的原因"
    _shot(page, "zh-CN", "22-decision-without-reason")
    page.fill("textarea[name=reason]", "确诊检测")
    page.fill("#decision-form input[name=password]", "not-the-password")
    page.click("#decision-submit")
    page.wait_for_selector("#decision-error")
    assert page.inner_text("#decision-error") == "为签署此发布而输入的密码错误"
    assert not english_left(page.content())
    _shot(page, "zh-CN", "23-decision-wrong-signature")
    assert foreign == []
