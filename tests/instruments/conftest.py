"""Instrument tests never touch the network: any socket connection fails the test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import DATA

FIXTURES: Path = DATA / "instruments"
PROFILES: Path = FIXTURES / "profiles"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an instrument test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
