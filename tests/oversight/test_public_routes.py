"""Every route is closed unless it says otherwise: the routes answered without an API key or a
signed-in session are exactly these, and the public transparency paths need no admission slot."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pars.api.middleware import UNLIMITED
from pars.oversight.pages_public import PUBLIC_PATHS

# Health and metrics (CONTRACT §11), the sign-in steps themselves, the idle warning's two routes
# (they read or extend only the browser's own session: without one, 0 seconds left and 401), and
# the public page.
OPEN = {
    ("GET", "/healthz"), ("GET", "/metrics"),
    ("GET", "/signin"), ("POST", "/signin"), ("GET", "/signin/enrol"), ("POST", "/signin/enrol"),
    ("GET", "/signin/code"), ("POST", "/signin/code"), ("POST", "/signout"),
    ("GET", "/session"), ("POST", "/session/keepalive"),
    ("GET", "/transparency"), ("GET", "/transparency.json"), ("GET", "/transparency.csv"),
}  # fmt: skip
GUARDS = {"current_actor", "web_actor"}


def _calls(dependant: Any) -> set[str]:
    found: set[str] = set()
    for sub in dependant.dependencies:
        found.add(getattr(sub.call, "__name__", type(sub.call).__name__))
        found |= _calls(sub)
    return found


def _routes(app: FastAPI) -> list[Any]:
    """Each route as the app answers it (routers included with their dependencies)."""
    found = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            found.extend(contexts())
        elif getattr(route, "dependant", None) is not None:
            found.append(route)
    return found


def test_only_health_sign_in_and_the_public_page_are_open(client: TestClient) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]
    open_routes = {
        (method, route.path)
        for route in _routes(app)
        if route.dependant is not None and not (GUARDS & _calls(route.dependant))
        for method in route.methods or ()
    }
    assert open_routes == OPEN


def test_the_public_paths_wait_for_no_admission_slot() -> None:
    assert set(PUBLIC_PATHS) <= set(UNLIMITED)


def test_every_other_page_still_asks_to_sign_in(client: TestClient) -> None:
    for path in ("/", "/oversight/reports", "/oversight/reports/transparency.json", "/agreements"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin"), path
    assert client.get("/api/v1/reports/transparency").status_code == 401
