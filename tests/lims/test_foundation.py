"""The foundation as a user meets it: the ``nbs`` command, start-up checks and the service."""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.db import make_engine
from lims.settings import Settings
from msms.catalogue import ANALYTES_CSV, DISORDERS_CSV
from tests.lims.helpers import NBS, nbs, nbs_here


def test_catalogue_csv_lists_48_analytes_and_46_disorders() -> None:
    def rows(kind: str) -> list[dict[str, str]]:
        out = nbs_here("catalogue", kind, "--format", "csv").stdout
        return list(csv.DictReader(io.StringIO(out)))

    analytes, disorders = rows("analytes"), rows("disorders")
    assert len(analytes) == 48
    assert len(disorders) == 46
    assert {"C5DC+C6OH", "Phe", "Xle"} <= {row["code"] for row in analytes}
    assert all(row["source"] or row["pop_provenance"] for row in analytes)
    assert {"PKU", "MCAD", "MSUD"} <= {row["code"] for row in disorders}


def test_catalogue_table_is_readable() -> None:
    out = nbs_here("catalogue", "disorders").stdout
    assert out.splitlines()[0].split()[:2] == ["code", "category"]
    assert "(46 rows)" in out


@pytest.mark.parametrize(
    "args",
    [(), ("catalogue",), ("catalogue", "analytes"), ("catalogue", "disorders"), ("serve",),
     ("init-db",), ("seed-demo",)],
)
def test_help_everywhere(args: tuple[str, ...]) -> None:
    result = nbs_here(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_usage_error_exits_2() -> None:
    assert nbs_here("catalogue", "analytes", "--format", "xml").returncode == 2


def test_unreachable_database_fails_at_start_up_naming_the_setting(tmp_path: Path) -> None:
    url = "postgresql://nbs:secret@127.0.0.1:1/none"
    result = nbs("serve", env={"NBS_DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 3
    assert "NBS_DATABASE_URL" in result.stderr
    assert "cannot be reached" in result.stderr
    assert "secret" not in result.stderr  # the password is redacted


@pytest.mark.parametrize(
    ("command", "database", "problem"),
    [
        ("serve", "/proc/nbs-none/y.db", "no database at /proc/nbs-none/y.db; create it with "
                                         "nbs init-db"),
        ("init-db", "/proc/nbs-none/y.db", "the folder /proc/nbs-none cannot be created"),
        ("init-db", "blocker/x.db", "blocker is a file, not a folder"),
        ("serve", "blocker/sub/x.db", "no database at"),
        ("init-db", "folder", "folder is a folder, not a database file"),
    ],
)
def test_unusable_sqlite_path_fails_at_start_up_naming_the_setting(
    tmp_path: Path, command: str, database: str, problem: str
) -> None:
    (tmp_path / "blocker").write_text("not a folder\n", encoding="utf-8")
    (tmp_path / "folder").mkdir()
    url = f"sqlite:///{database}"  # relative to the working folder, or absolute
    result = nbs(command, env={"NBS_DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert f"NBS_DATABASE_URL={url} cannot be used" in result.stderr
    assert problem in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "folder"]


def test_malformed_database_url_names_the_setting(tmp_path: Path) -> None:
    result = nbs("init-db", env={"NBS_DATABASE_URL": "mysql://x@y/z"}, cwd=tmp_path)
    assert result.returncode == 3
    assert "NBS_DATABASE_URL" in result.stderr and "unsupported database" in result.stderr


def test_malformed_catalogue_row_fails_at_start_up_naming_file_line_field(tmp_path: Path) -> None:
    lines = ANALYTES_CSV.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",13.0,6.0,30.0,", ",thirteen,6.0,30.0,")
    bad = tmp_path / "analytes.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {"NBS_ANALYTES_CSV": str(bad), "NBS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for command in (("serve",), ("catalogue", "analytes")):
        result = nbs(*command, env=env, cwd=tmp_path)
        assert result.returncode == 3, result.stderr
        assert f"{bad}:4, field 'pop_median_umol_l'" in result.stderr


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("time_critical", "maybe", "'maybe' is not Yes, No or n/a"),
     ("category", "metabolic", "'metabolic' is not one of"),
     ("loinc_answer", "LA1252O-5", "is not a LOINC answer code")],
)
def test_malformed_disorder_row_fails_at_start_up_naming_file_line_field(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    rows = list(csv.DictReader(io.StringIO(DISORDERS_CSV.read_text(encoding="utf-8"))))
    rows[0][field] = value
    bad = tmp_path / "disorders.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    env = {"NBS_DISORDERS_CSV": str(bad), "NBS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for command in (("serve",), ("catalogue", "disorders")):
        result = nbs(*command, env=env, cwd=tmp_path)
        assert result.returncode == 3, result.stderr
        assert f"{bad}:2, field '{field}': " in result.stderr
        assert message in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_production_refuses_the_default_secret(tmp_path: Path) -> None:
    result = nbs("init-db", env={"NBS_ENVIRONMENT": "production"}, cwd=tmp_path)
    assert result.returncode == 3
    assert "NBS_SECRET_KEY" in result.stderr


def test_health_and_pages(database_url: str) -> None:
    settings = Settings(database_url=database_url)
    engine = make_engine(settings)
    app = create_app(settings, engine)
    with TestClient(app) as client:
        health = client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok"
        assert body["database"]["status"] == "ok"
        assert body["database"]["backend"] == database_url.split(":")[0].split("+")[0]
        assert body["version"]
        assert "/health" in client.get("/openapi.json").json()["paths"]
        landing = client.get("/")
        assert landing.status_code == 200
        assert "Newborn screening laboratory" in landing.text
    engine.dispose()  # its pooled connection would otherwise be closed by the garbage collector


def test_health_reports_a_lost_database() -> None:
    settings = Settings(database_url="postgresql+psycopg://nbs@127.0.0.1:1/none")
    app = create_app(settings, make_engine(settings))
    client = TestClient(app)  # not entered: the start-up check would refuse to start
    body = client.get("/health").json()
    assert body["status"] == "degraded"
    assert body["database"]["status"] == "unavailable"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_health_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "NBS_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'nbs.db'}"}
    assert nbs("init-db", env=env, cwd=tmp_path).returncode == 0
    proc = subprocess.Popen([*NBS, "serve", "--port", str(port), "--demo"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status is None:
            if proc.poll() is not None:
                pytest.fail(f"nbs serve exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    status = resp.status
            except OSError:
                time.sleep(0.3)
        assert status == 200
        assert (tmp_path / "var" / "nbs.db").exists()
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"http://127.0.0.1:{port}/" in output


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    repo = Path(__file__).resolve().parents[2]
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          cwd=repo, timeout=120, check=False)


def test_bench_help_lists_the_benchmarks_without_running_them() -> None:
    from bench.__main__ import BENCHMARKS

    result = _bench("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m bench")
    for module in BENCHMARKS:
        assert f"  {module.removeprefix('bench.')} " in result.stdout
    assert "took" not in result.stderr  # nothing ran
    listed = _bench("--list").stdout.split("\n")
    assert [line.split()[0] for line in listed if line and not line.startswith(" ")] == [
        m.removeprefix("bench.") for m in BENCHMARKS]


def test_bench_runs_only_the_named_benchmarks() -> None:
    result = _bench("catalogue")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    assert rows and all(row.startswith("catalogue: ") for row in rows)
    assert result.stderr.count(" took ") == 1


def test_bench_unknown_name_is_a_usage_error() -> None:
    result = _bench("catalogue", "populaton")
    assert result.returncode == 2
    assert "unknown benchmark 'populaton'" in result.stderr and "population" in result.stderr
    assert result.stdout == ""
