"""Commands say which database they use and only ``nbs init-db`` creates one; ``nbs serve`` on a
busy port stops before it prints where to open it."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.lims.helpers import nbs, nbs_here, table_names


def test_commands_refuse_to_create_a_database(own_database_url: str, tmp_path: Path) -> None:
    env = {"NBS_DATABASE_URL": own_database_url}
    plate = tmp_path / "plate.txt"
    plate.write_text("not read\n", encoding="utf-8")
    # the first as its own process (what a user starting it sees), the others in this process
    for run, command in ((nbs, ("ingest", str(plate))), (nbs_here, ("alerts", "list")),
                         (nbs_here, ("audit", "verify"))):
        result = run(*command, env=env, cwd=tmp_path)
        assert result.returncode == 3, result.stdout + result.stderr
        assert "nbs init-db" in result.stderr and "Traceback" not in result.stderr
        if own_database_url.startswith("sqlite"):
            assert f"no database at {tmp_path / 'var' / 'nbs.db'}" in result.stderr
            assert not (tmp_path / "var").exists()
        else:
            assert "the database has no LIMS tables" in result.stderr
            assert table_names(own_database_url) == set()
    assert nbs_here("init-db", env=env, cwd=tmp_path).returncode == 0
    listed = nbs_here("alerts", "list", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.startswith("nbs: database ")
    if own_database_url.startswith("sqlite"):
        assert f"({tmp_path / 'var' / 'nbs.db'})" in listed.stderr


def test_ingest_outside_the_project_names_the_default_database(tmp_path: Path) -> None:
    plate = tmp_path / "plate.txt"
    plate.write_text("not read\n", encoding="utf-8")
    result = nbs("ingest", str(plate), env={"NBS_DATABASE_URL": "sqlite:///var/nbs.db"},
                 cwd=tmp_path)
    assert result.returncode == 3
    assert (f"NBS_DATABASE_URL=sqlite:///var/nbs.db cannot be used: no database at "
            f"{tmp_path / 'var' / 'nbs.db'}") in result.stderr
    assert list(tmp_path.iterdir()) == [plate]


def test_serve_on_a_busy_port_stops_before_open(tmp_path: Path) -> None:
    env = {"NBS_DATABASE_URL": f"sqlite:///{tmp_path / 'nbs.db'}"}
    assert nbs("init-db", env=env, cwd=tmp_path).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = nbs("serve", "--port", str(port), env=env, cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port} (--port, NBS_PORT): Address already in use" in (
        result.stderr)
    assert "Open http" not in result.stdout
