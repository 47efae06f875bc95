"""The reflex tests' client: the app with a pipeline that reads the test plates' CSV."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from tests.lims.reflex.plates import ReflexCsvPipeline


@pytest.fixture
def reflex_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ReflexCsvPipeline())
    with TestClient(app) as test_client:
        yield test_client
