"""Fixtures for the API tests: the app's OpenAPI document and a key for each kind of caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pars.permissions import CITY_ROLES, Role
from tests.conftest import User


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


@pytest.fixture
def keys(make_user: Callable[..., User], admin: User) -> dict[str, User]:
    """An administrator, a city user with every other city role (a stakeholder agency, so it
    may vote), and a partner: between them, each operation is allowed to one and refused to another."""
    city = make_user(*(CITY_ROLES - {Role.ADMIN}), agency="DAO")
    return {"admin": admin, "city": city, "partner": make_user(Role.PARTNER, agency="FBI")}
