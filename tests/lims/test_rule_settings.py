"""A laboratory's own rule files (NBS_BARCODE_RULE, NBS_UNSATISFACTORY_CODES, NBS_WORKFLOW):
used when named, checked at start-up with errors naming the setting, file, line and field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.errors import ConfigurationError
from lims.reference import (
    BARCODE_TOML,
    UNSATISFACTORY_CSV,
    WORKFLOW_TOML,
    BarcodeRule,
    use_rules,
    workflow_config,
)
from lims.settings import Settings, load_configured_rules
from tests.conftest import ROOT
from tests.lims.helpers import BIRTH, card, nbs, specimen_body
from tests.lims.plates import CsvPipeline

API = "/api/v1"
#: A card format of another laboratory: "NB", seven digits, a mod 11 check digit.
LAB_BARCODE = """\
version = "lab-7"
description = "NB and eight digits, the last a mod 11 check digit"
pattern = "^NB[0-9]{8}$"
check_digit = "mod11"
"""


@pytest.fixture(autouse=True)
def packaged_rules_afterwards() -> Iterator[None]:
    yield
    use_rules(None)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _workflow(**changes: str) -> str:
    lines = WORKFLOW_TOML.read_text(encoding="utf-8").splitlines()
    for key, value in changes.items():
        lines = [f"{key} = {value}" if line.startswith(f"{key} =") else line
                 for line in lines]
    return "\n".join(lines) + "\n"


def test_a_lab_s_own_rules_are_used(settings, engine, world, tmp_path):
    codes = UNSATISFACTORY_CSV.read_text(encoding="utf-8") + (
        "L01,Card received without the mother's consent form,administrative,lab rule 4.2\n")
    lab = settings.model_copy(update={
        "barcode_rule": _write(tmp_path, "barcode.toml", LAB_BARCODE),
        "unsatisfactory_codes": _write(tmp_path, "codes.csv", codes),
        "workflow": _write(tmp_path, "workflow.toml", _workflow(
            max_transit_days="3", late_arrival_code='"L01"')),
    })
    with TestClient(create_app(lab, engine, pipeline=CsvPipeline())) as client:
        tech = world.auth("technician")
        barcode = BarcodeRule("x", "", r"^NB[0-9]{8}$", "mod11").make("NB1234567")
        ok = client.post(f"{API}/specimens", json=specimen_body(barcode, world.submitter_ids[0]),
                         headers=tech)
        assert ok.status_code == 201, ok.text
        packaged_format = client.post(
            f"{API}/specimens", json=specimen_body(card(2), world.submitter_ids[0]),
            headers=tech)
        assert packaged_format.status_code == 422
        assert packaged_format.json()["field"] == "barcode"
        listed = client.get(f"{API}/unsatisfactory-codes", headers=tech).json()
        assert "L01" in {c["code"] for c in listed}
        late = client.post(f"{API}/specimens", json=specimen_body(
            BarcodeRule("x", "", r"^NB[0-9]{8}$", "mod11").make("NB7654321"),
            world.submitter_ids[0], received_at=(BIRTH + timedelta(days=6)).isoformat()),
            headers=tech)
        assert late.status_code == 201, late.text
        assert late.json()["unsatisfactory_code"] == "L01"
    assert workflow_config().max_transit_days == 3


@pytest.mark.parametrize(("setting", "name", "text", "where"), [
    ("NBS_BARCODE_RULE", "barcode.toml", LAB_BARCODE.replace('"mod11"', '"crc32"'),
     ":4, field check_digit: must be one of luhn, mod11, none, got 'crc32'"),
    ("NBS_BARCODE_RULE", "barcode.toml", LAB_BARCODE.replace('"^NB[0-9]{8}$"', '"^NB[0-9"'),
     ":3, field pattern: bad regular expression"),
    ("NBS_BARCODE_RULE", "barcode.toml", 'version = "1"\npattern = [unclosed\n',
     ":2: not valid TOML"),
    ("NBS_UNSATISFACTORY_CODES", "codes.csv",
     "code,description,category,source\nU01,Too little blood,collection,x\nU01,Again,x,y\n",
     ":3, field code: duplicate code U01"),
    ("NBS_UNSATISFACTORY_CODES", "codes.csv", "code,description,source\nU01,a,b\n",
     ":1, field category: the header lacks category"),
    ("NBS_UNSATISFACTORY_CODES", "codes.csv",
     "code,description,category,source\nU01,,collection,x\n", ":2, field description: empty"),
    ("NBS_WORKFLOW", "workflow.toml", _workflow(alert_escalation_minutes="0"),
     ":5, field alert_escalation_minutes: must be at least 1, got 0"),
    ("NBS_WORKFLOW", "workflow.toml", _workflow(max_transit_days='"two weeks"'),
     ":8, field max_transit_days: must be an integer, got 'two weeks'"),
    ("NBS_WORKFLOW", "workflow.toml",
     _workflow(alert_escalation_notify='[["reviewer"], ["director"]]'),
     ":17, field alert_escalation_notify: unknown role director"),
    ("NBS_WORKFLOW", "workflow.toml", _workflow(late_arrival_code='"U77"'),
     ":9, field late_arrival_code: 'U77' is not one of the unsatisfactory codes"),
])
def test_a_bad_rule_file_names_setting_file_line_and_field(tmp_path, setting, name, text,
                                                           where):
    path = _write(tmp_path, name, text)
    field = {"NBS_BARCODE_RULE": "barcode_rule", "NBS_UNSATISFACTORY_CODES":
             "unsatisfactory_codes", "NBS_WORKFLOW": "workflow"}[setting]
    with pytest.raises(ConfigurationError) as raised:
        load_configured_rules(Settings(**{field: path}))
    message = str(raised.value)
    assert message.startswith(f"{setting}={path}: {path}")
    assert where in message, message


def test_a_missing_rule_file_is_named():
    with pytest.raises(ConfigurationError, match="NBS_WORKFLOW=/no/such.toml: "
                                                 "/no/such.toml: no such file"):
        load_configured_rules(Settings(workflow=Path("/no/such.toml")))


def test_the_service_and_the_commands_refuse_a_bad_rule_file_at_start_up(tmp_path):
    bad = _write(tmp_path, "barcode.toml", LAB_BARCODE.replace('"mod11"', '"crc32"'))
    plate = _write(tmp_path, "plate.csv", "not read\n")
    env = {"NBS_BARCODE_RULE": str(bad), "NBS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for command in (("serve",), ("ingest", str(plate)), ("alerts", "escalate"),
                    ("seed-demo",)):
        result = nbs(*command, env=env, cwd=ROOT)
        assert result.returncode == 3, (command, result.stderr)
        assert f"NBS_BARCODE_RULE={bad}: {bad}:4, field check_digit" in result.stderr


def test_the_packaged_files_are_the_defaults():
    settings = Settings()
    assert (settings.barcode_rule, settings.unsatisfactory_codes, settings.workflow) == (
        BARCODE_TOML, UNSATISFACTORY_CSV, WORKFLOW_TOML)
    rules = load_configured_rules(settings)
    assert rules.workflow.late_arrival_code in rules.unsatisfactory_codes
