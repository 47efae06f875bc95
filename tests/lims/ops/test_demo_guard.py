"""``nbs serve --demo`` and ``nbs seed-demo`` create demo accounts (an admin among them) and
print their passwords: outside development they are refused before the database is touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lims.helpers import nbs, table_names

PRODUCTION = {"NBS_ENVIRONMENT": "production", "NBS_SECRET_KEY": "a-secret-of-the-lab-" * 3}


@pytest.mark.parametrize(("environment", "command"), [
    ("production", ("serve", "--port", "1", "--demo")), ("test", ("seed-demo",))])
def test_demo_is_refused_outside_development(own_database_url: str, tmp_path: Path,
                                             environment: str, command: tuple[str, ...]) -> None:
    env = {**PRODUCTION, "NBS_ENVIRONMENT": environment, "NBS_DATABASE_URL": own_database_url}
    result = nbs(*command, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"refused with NBS_ENVIRONMENT={environment}" in result.stderr
    assert "password" not in result.stdout and "Open http" not in result.stdout
    if own_database_url.startswith("sqlite"):
        assert not (tmp_path / "var" / "nbs.db").exists()
    else:
        assert table_names(own_database_url) == set()
