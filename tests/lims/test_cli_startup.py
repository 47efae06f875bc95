"""``nbs COMMAND`` imports that command's module only; ``nbs --help`` lists every command."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import lims.cli
from lims.cli.commands import COMMANDS, load
from tests.lims.helpers import nbs_here

#: what the commands that do not use the database, the web app or model training never load
HEAVY = ("sqlalchemy.orm", "sqlmodel", "alembic", "sklearn", "fastapi", "lims.db", "lims.app")

_RUN_AND_REPORT = """
import json, sys
from lims.cli import main
try:
    main(sys.argv[1:])
    status = 0
except SystemExit as exc:
    status = exc.code
heavy = json.loads({heavy!r})
print(json.dumps({{"status": status, "loaded": [m for m in heavy if m in sys.modules]}}),
      file=sys.stderr)
"""


def _run_reporting_modules(*args: str, cwd: Path, heavy: tuple[str, ...] = HEAVY,
                           env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    code = _RUN_AND_REPORT.format(heavy=json.dumps(heavy))
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                            cwd=cwd, timeout=120, check=False,
                            env={**os.environ, **(env or {})})
    report = json.loads(result.stderr.strip().splitlines()[-1])
    return report["status"], report["loaded"]


@pytest.fixture(scope="module")
def one_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("one")
    made = nbs_here("simulate", "cohort", "--n", "1", "--seed", "1", "--out",
                    str(folder / "profiles.csv"))
    assert made.returncode == 0, made.stderr
    return folder / "profiles.csv"


@pytest.mark.parametrize("args", [
    ("evaluate", "--help"),
    ("evaluate", "profiles.csv", "--out", "calls.csv"),
    ("cutoffs", "show", "--help"),
    ("cutoffs", "show"),
    ("--help",),
])
def test_a_command_loads_no_database_web_or_model_training(args: tuple[str, ...],
                                                            one_profile: Path) -> None:
    status, loaded = _run_reporting_modules(*args, cwd=one_profile.parent)
    assert status == 0
    assert loaded == []


def test_evaluating_a_plate_loads_neither_sqlalchemy_nor_scipy(one_profile: Path) -> None:
    """The database driver layer and SciPy take a tenth of a second each to import, longer than
    evaluating a plate: the settings check only the database URL's scheme and the first tier
    takes its normal quantiles from the standard library."""
    status, loaded = _run_reporting_modules("evaluate", "profiles.csv", "--out", "calls.csv",
                                            cwd=one_profile.parent,
                                            heavy=("sqlalchemy", "scipy"))
    assert status == 0
    assert loaded == []


def test_the_check_sees_what_a_database_command_loads(tmp_path: Path) -> None:
    status, loaded = _run_reporting_modules("ingest", "--help", cwd=tmp_path)
    assert status == 0
    assert {"sqlmodel", "sqlalchemy.orm"} <= set(loaded)


def test_init_db_loads_no_demo_pipeline_or_web_app(tmp_path: Path) -> None:
    """``nbs init-db`` migrates without the demo, the screening pipeline or the web app."""
    status, loaded = _run_reporting_modules(
        "init-db", cwd=tmp_path, heavy=(*HEAVY, "lims.demo", "lims.pipeline", "lims.accession"))
    assert status == 0
    assert (tmp_path / "var" / "nbs.db").is_file()
    assert "lims.db" in loaded
    assert not {"sklearn", "fastapi", "lims.app", "lims.demo", "lims.pipeline",
                "lims.accession"} & set(loaded), loaded


def test_help_lists_every_command_in_order_with_its_own_one_line_help() -> None:
    result = nbs_here("--help")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^│ ([a-z][a-z0-9-]*) ", result.stdout, flags=re.MULTILINE)
    assert listed == [entry.name for entry in COMMANDS]
    for entry in COMMANDS:
        command = load(entry.name)
        first = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
        assert command.name == entry.name
        assert first.strip() == entry.help


def _reachable_callbacks(app: typer.Typer) -> set[object]:
    found = {info.callback for info in app.registered_commands}
    for group in app.registered_groups:
        assert group.typer_instance is not None
        found |= _reachable_callbacks(group.typer_instance)
    return found


def test_every_command_function_of_the_cli_modules_is_in_the_table() -> None:
    reachable: set[object] = set()
    for entry in COMMANDS:
        load(entry.name)
        found = entry.resolve()
        reachable |= (_reachable_callbacks(found) if isinstance(found, typer.Typer)
                      else {found})
    commands = {
        f"{info.name}:{name}"
        for info in pkgutil.iter_modules(lims.cli.__path__, "lims.cli.")
        if info.name != "lims.cli.__main__"  # runs nbs when imported
        for name, value in vars(importlib.import_module(info.name)).items()
        if name.endswith("_command") and inspect.isfunction(value)
        and value.__module__ == info.name and value not in reachable
    }
    assert commands == set()


def test_a_mistyped_command_is_a_usage_error_naming_the_nearest() -> None:
    result = nbs_here("evalute")
    assert result.returncode == 2
    assert "Did you mean 'evaluate'?" in result.stderr


def test_database_commands_that_do_not_train_load_no_model_libraries(
        one_profile: Path, tmp_path: Path) -> None:
    """Exporting outcomes, ingesting a plate and refusing a missing model file need neither
    scikit-learn nor joblib (2-3 s of imports on the shared machine before)."""
    db = f"sqlite:///{tmp_path / 'nbs.db'}"
    assert nbs_here("init-db", env={"NBS_DATABASE_URL": db}).returncode == 0
    runs = [("outcomes", "export", "--out", str(tmp_path / "o.csv")),
            ("second-tier", "evaluate", str(one_profile), "--model",
             str(tmp_path / "none.joblib"))]
    for args in runs:
        status, loaded = _run_reporting_modules(*args, cwd=one_profile.parent,
                                                heavy=("sklearn", "joblib"),
                                                env={"NBS_DATABASE_URL": db})
        assert loaded == [], (args, loaded)
    assert status != 0  # the missing model file is refused


#: what ``nbs cases`` never needs: the plate readers (the instrument format modules, lxml),
#: pandas and numpy, and the accession service (its ``open`` alone finds a card)
PLATE_AND_FRAMES = ("pandas", "numpy", "lxml", "instruments.registry", "instruments.run",
                    "lims.accession.service")


def test_a_cases_command_loads_no_plate_reader_or_data_frames(tmp_path: Path) -> None:
    """The follow-up commands read the database only: the instrument package's readers,
    pandas and numpy were a second of CPU of ``nbs cases list``'s 1.9 s before."""
    db = f"sqlite:///{tmp_path / 'nbs.db'}"
    assert nbs_here("init-db", env={"NBS_DATABASE_URL": db}).returncode == 0
    for args in (("cases", "list"), ("cases", "overdue"), ("cases", "show", "1")):
        status, loaded = _run_reporting_modules(*args, cwd=tmp_path, heavy=PLATE_AND_FRAMES,
                                                env={"NBS_DATABASE_URL": db})
        assert status == (3 if args[1] == "show" else 0), args  # no case 1: refused, named
        assert loaded == [], (args, loaded)


def test_the_instrument_errors_and_limits_load_no_reader_and_the_readers_load_when_used(
        ) -> None:
    """``import instruments.errors`` (as the LIMS's errors do) runs the package's ``__init__``:
    it imports the readers when one of their names is first used, and ``instruments.formats()``
    stays the function listing every registered format even when the ``instruments.formats``
    module was imported first."""
    code = ("import sys, json\n"
            "import instruments.errors, instruments.archive\n"
            "before = [m for m in ('pandas', 'lxml', 'instruments.registry') if m in sys.modules]\n"
            "import instruments.formats\n"
            "import instruments\n"
            "names = instruments.formats()\n"
            "from instruments import read, PlateRun, mzml\n"
            "print(json.dumps({'before': before, 'formats': names,\n"
            "                  'renderings': instruments.rendering_names(),\n"
            "                  'read': read.__module__, 'run': PlateRun.__module__,\n"
            "                  'mzml': mzml.__name__}))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=True)
    report = json.loads(result.stdout)
    assert report["before"] == []
    assert report["formats"][-1] == "delimited" and "mzml" in report["formats"]
    assert "csv-wide" in report["renderings"]
    assert (report["read"], report["run"], report["mzml"]) == (
        "instruments.registry", "instruments.run", "instruments.mzml")
