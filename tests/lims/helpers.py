"""Readable builders and helpers for LIMS tests: cards, accessioning and uploads through the
API, the ``nbs`` command in a subprocess, table counts."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, inspect
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cutoffs.second_tier.policy import default_policy
from lims.cli import main
from lims.models import Alert, utcnow
from lims.reference import barcode_rule
from lims.settings import get_settings
from tests.lims.conftest import PASSWORD
from tests.lims.plates import plate_csv

API = "/api/v1"
BIRTH = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NBS = [sys.executable, "-m", "lims.cli"]
#: A quick second-tier policy for a small training set (few folds, one repeat, a low minimum
#: count, a loose tail bound so that the small model filters something).
FAST = dataclasses.replace(
    default_policy(), min_true_positives=6, threshold_cv_splits=3, validation_cv_splits=3,
    validation_cv_repeats=1, tail_miss_probability=0.5,
)


def card(n: int) -> str:
    """A valid card barcode (Luhn check digit) for number ``n``."""
    return barcode_rule().make(f"{n:08d}")


def specimen_body(barcode: str, submitter_id: int, *, infant: dict[str, Any] | None = None,
                  **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "barcode": barcode,
        "submitter_id": submitter_id,
        "collected_at": (BIRTH + timedelta(hours=36)).isoformat(),
        "received_at": (BIRTH + timedelta(days=3)).isoformat(),
    }
    if "infant_id" not in extra and "previous_barcode" not in extra:
        body["infant"] = infant or {"submitter_id": submitter_id, "birth_at": BIRTH.isoformat(),
                                    "sex": "F", "birth_weight_g": 3300,
                                    "gestational_age_weeks": 39.5,
                                    "mother_name": "Li Na", "mother_id": "M-1"}
    body.update(extra)
    return body


def accession(client, world, *numbers):  # type: ignore[no-untyped-def]
    """Accession cards ``card(n)`` for the first submitter; their specimens by ``n``."""
    tech, north = world.auth("technician"), world.submitter_ids[0]
    out = {}
    for n in numbers:
        response = client.post(f"{API}/specimens", json=specimen_body(card(n), north),
                               headers=tech)
        assert response.status_code == 201, response.text
        out[n] = response.json()
    return out


def upload(client, world, name, data, role="technician"):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/runs", files={"file": (name, data, "text/csv")},
                       headers=world.auth(role))


def sign_off_plates(client, headers):  # type: ignore[no-untyped-def]
    """A technician (``headers``) signs off (accepts) the QC of every plate not rejected, as
    the bulk release of normals requires; returns the run ids signed off."""
    done = []
    for run in client.get("/api/v1/runs", headers=headers).json():
        if run["qc_decision"] != "reject":
            response = client.post(f"/api/v1/runs/{run['id']}/sign-off", headers=headers,
                                   json={"decision": "accept", "reason": "controls in range"})
            assert response.status_code == 200, response.text
            done.append(run["id"])
    return done


def flagged_card(client, world, n=1, plate="P-FU"):  # type: ignore[no-untyped-def]
    """Card ``n`` accessioned and measured on its own plate with an MSUD leucine (Xle 900)."""
    specimen = accession(client, world, n)[n]
    response = upload(client, world, f"{plate}.csv", plate_csv(plate, {card(n): {"Xle": 900}}))
    assert response.status_code == 201, response.text
    return specimen


def decide(client, world, specimen_id, decision):  # type: ignore[no-untyped-def]
    """A reviewer's signed decision on a card, with the reason "MSUD suspected"."""
    response = client.post(f"{API}/specimens/{specimen_id}/decisions", json={
        "decision": decision, "reason": "MSUD suspected", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert response.status_code == 201, response.text


def release_held_back_repeat(client, world, repeat_id):  # type: ignore[no-untyped-def]
    """The plates signed off, the bulk release of normals holds back the repeat card of a baby
    with an open case, and the reviewer releases it as normal on its own: the decision."""
    sign_off_plates(client, world.auth("technician"))
    bulk = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                       headers=world.auth("reviewer"))
    assert repeat_id not in bulk.json()["released_specimen_ids"]
    released = client.post(f"{API}/specimens/{repeat_id}/decisions", json={
        "decision": "release_normal", "password": PASSWORD}, headers=world.auth("reviewer"))
    assert released.status_code == 201, released.text
    return released.json()


def table_names(url: str) -> set[str]:
    """The tables of the database at ``url``."""
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def count(engine, model):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def sign_in(client, username, password):  # type: ignore[no-untyped-def]
    response = client.post(f"{API}/auth/login", json={"username": username,
                                                      "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def open_alert(engine, specimen_id: int, *, age: timedelta = timedelta(0),  # type: ignore[no-untyped-def]
               disorder: str = "MSUD") -> int:
    """An open alert on a specimen, opened ``age`` ago (written as ingest would)."""
    with Session(engine) as session:
        alert = Alert(specimen_id=specimen_id, disorder=disorder,
                      message=f"{disorder}: time-critical", opened_at=utcnow() - age)
        session.add(alert)
        session.commit()
        assert alert.id is not None
        return alert.id


def nbs(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``nbs`` in a subprocess with ``env`` added to the environment."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*NBS, *args], capture_output=True, text=True, env=full_env, cwd=cwd,
                          timeout=timeout, check=False)


def nbs_here(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
             input: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``nbs`` in this process, as :func:`nbs` runs it in a subprocess: the same entry
    function (``lims.cli.main``, with its exit statuses), ``env`` added to the environment,
    ``cwd`` the working folder, ``input`` on stdin, the settings read afresh. For tests about
    what a command does; tests about the process itself (start-up, exit on a bad setting)
    keep :func:`nbs`."""
    engines: dict[int, Engine] = {}

    def opened(connection: Connection) -> None:
        engines[id(connection.engine)] = connection.engine

    get_settings.cache_clear()
    status: int | str | None = 0
    event.listen(Engine, "engine_connect", opened)
    with CliRunner().isolation(input=input, env=env) as (out, err, _), \
            contextlib.chdir(cwd or Path.cwd()):
        try:
            main(list(args))
        except SystemExit as exc:
            status = exc.code
        finally:
            # what the end of the process does: its output is flushed, its connections closed
            sys.stdout.flush()
            sys.stderr.flush()
            event.remove(Engine, "engine_connect", opened)
            for engine in engines.values():
                engine.dispose()
            get_settings.cache_clear()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    if isinstance(status, str):  # sys.exit("message"): printed, and the status is 1
        stderr, status = stderr + status + "\n", 1
    return subprocess.CompletedProcess(["nbs", *args], status or 0, stdout, stderr)
