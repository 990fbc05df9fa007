"""The OpenAPI document is exact: walking the app's route table, every operation is made to answer
the statuses it can give (no key, a key without the role, an unknown id, bad input, an unknown
query parameter, a record-field probe, malformed JSON, a body over 1 MiB, a wrong method), and
every answer must be documented for that operation, errors as problem+json with the documented
members. A route that answers a status its document does not list fails here."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from pars.api.openapi import operations
from pars.app import create_app
from pars.clock import FrozenClock
from pars.settings import Settings
from tests.api.test_saturation import REFUSING
from tests.conftest import START, User

PROBLEM = "application/problem+json"
UNKNOWN_ID = "6f1c0a56-8a51-4f63-9a5b-1a2b3c4d5e6f"
WRONG_METHODS = ("PUT", "PATCH", "DELETE", "POST", "GET")
STREAMS = {"/api/v1/feed/stream"}
STREAM_HEADERS = {"Last-Event-ID": "not-a-sequence"}


def _api_operations(client: TestClient) -> Iterator[tuple[str, str, bool]]:
    """(method, path template, takes a body) of every documented operation."""
    for route, method in operations(client.app.routes):  # type: ignore[attr-defined]
        yield method, route.path_format, route.body_field is not None


def _fill(path: str, value: str = UNKNOWN_ID) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


class Checked:
    """Sends requests and checks each answer against the document."""

    def __init__(self, client: TestClient, document: dict[str, Any]) -> None:
        self.client, self.document = client, document
        self.seen: dict[tuple[str, str], set[int]] = {}

    def send(
        self, method: str, path: str, *, url: str | None = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        # An event stream that is allowed never ends: asked to resume after no sequence, it
        # answers at once with an error instead.
        headers = {**STREAM_HEADERS, **(headers or {})} if path in STREAMS else headers
        response: httpx.Response = self.client.request(method, url or _fill(path), headers=headers, **kwargs)
        self.check(method, path, response)
        self.seen.setdefault((method, path), set()).add(response.status_code)
        return response

    def check(self, method: str, path: str, response: httpx.Response) -> None:
        operation = self.document["paths"][path][method.lower()]
        status = response.status_code
        where = f"{method} {path} answered {status}: {response.text[:300]}"
        assert str(status) in operation["responses"], f"undocumented status. {where}"
        assert status < 500 or status == 503, where
        if status < 400:
            return
        documented = operation["responses"][str(status)]
        media = response.headers["content-type"].split(";")[0]
        assert media in documented["content"], where
        if not path.startswith("/api/"):
            return
        assert media == PROBLEM, where
        body = response.json()
        assert body["status"] == status and body["title"] and body["detail"] and body["type"], where
        if status == 422:
            assert body["errors"] and all(set(e) == {"field", "message"} for e in body["errors"]), where
        for header in documented.get("headers", {}):
            if header != "Idempotent-Replayed":
                assert header in response.headers, f"{header} missing. {where}"


def test_every_operation_answers_only_documented_statuses_as_documented_problems(
    client: TestClient, document: dict[str, Any], keys: dict[str, User]
) -> None:
    checked = Checked(client, document)
    operations_seen = 0
    for method, path, has_body in _api_operations(client):
        if not path.startswith("/api/"):
            checked.send(method, path)
            continue
        operations_seen += 1
        body: dict[str, Any] = {"json": {}} if has_body else {}
        checked.send(method, path, **body)  # no key
        statuses = {
            name: checked.send(method, path, headers=key.headers, **body).status_code for name, key in keys.items()
        }
        allowed = [name for name, status in statuses.items() if status != 403]
        probe: dict[str, Any] = {"headers": keys[allowed[0] if allowed else "city"].headers}
        checked.send(method, path, url=_fill(path) + "?colour=red", **probe, **body)  # unknown parameter
        checked.send(method, path, url=_fill(path) + "?place_of_birth=X", **probe, **body)  # a probe
        if "{" in path:
            checked.send(method, path, url=_fill(path, "not-an-id"), **probe, **body)
        params = {p["name"] for p in document["paths"][path][method.lower()].get("parameters", [])}
        if "limit" in params:
            for limit in ("0", "101", "many"):
                assert checked.send(method, path, params={"limit": limit}, **probe).status_code in (403, 422)
        if has_body:
            headers = {**probe["headers"], "Content-Type": "application/json"}
            checked.send(method, path, content=b'{"broken": ', headers=headers)
            checked.send(method, path, content=b"[" + b"0," * (1024 * 1024) + b"0]", headers=headers)
        if method == "POST":
            key = {"Idempotency-Key": "k" * 256}  # over 255 characters
            checked.send(method, path, headers={**probe["headers"], **key}, **body)
        assert checked.seen[(method, path)] >= {401}
        for status in (403, 400):
            assert status in checked.seen[(method, path)], f"{method} {path}: never {status}"
        if "{" in path and allowed:
            assert checked.seen[(method, path)] & {404, 422}, f"{method} {path}: an unknown id was not 404"
    assert operations_seen >= 40


def test_every_status_the_walk_provoked_is_the_one_the_contract_names(
    client: TestClient, document: dict[str, Any], keys: dict[str, User]
) -> None:
    """Spot checks that the walk provokes what it means to: the statuses themselves, by route."""
    checked = Checked(client, document)
    city, partner = keys["city"].headers, keys["partner"].headers
    assert checked.send("GET", "/api/v1/arrests/{arrest_id}").status_code == 401
    assert checked.send("GET", "/api/v1/arrests/{arrest_id}", headers=keys["admin"].headers).status_code == 403
    assert checked.send("GET", "/api/v1/arrests/{arrest_id}", headers=city).status_code == 404
    assert checked.send("GET", "/api/v1/agencies", params={"colour": "red"}, headers=partner).status_code == 400
    assert checked.send("GET", "/api/v1/agencies", params={"limit": "101"}, headers=partner).status_code == 422
    assert checked.send("POST", "/api/v1/detainers", json={}, headers=partner).status_code == 422
    response = checked.send("POST", "/api/v1/arrests", content=b"x" * (1024 * 1024 + 1), headers=city)
    assert response.status_code == 413
    assert checked.send("GET", "/api/v1/audit/checkpoint", headers=city).status_code == 200
    body = {"arrest_id": str(uuid.uuid4()), "type": "hold", "judicial_warrant": None, "document_ref": "D-1"}
    assert checked.send("POST", "/api/v1/detainers", json=body, headers=partner).status_code == 404


def test_a_wrong_method_is_405_problem_with_allow_listing_the_path_methods(
    client: TestClient, document: dict[str, Any]
) -> None:
    for path, item in document["paths"].items():
        methods = {m.upper() for m in item}
        wrong = next(m for m in WRONG_METHODS if m not in methods)
        response = client.request(wrong, _fill(path))
        assert response.status_code == 405, f"{wrong} {path}: {response.status_code}"
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["allow"] == ", ".join(sorted(methods)), path
        problem = response.json()
        assert problem["status"] == 405 and wrong in problem["detail"]


def test_the_document_states_the_rules_of_lists_keys_and_errors(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}
    assert "errors" in schemas["InvalidProblem"]["required"]
    assert "HTTPValidationError" not in schemas
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            parameters = {p["name"]: p for p in operation.get("parameters", [])}
            for status in ("429", "503"):
                if status in responses:
                    assert "Retry-After" in responses[status]["headers"], (method, path, status)
            if not path.startswith("/api/"):
                continue
            assert {"400", "401", "403", "503"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert {"408", "413", "422"} <= set(responses), (method, path)
            if method == "post":
                assert parameters["Idempotency-Key"]["schema"]["maxLength"] == 255, path
            page = responses.get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if page.get("$ref", "").endswith("Page") and path != "/api/v1/feed":
                limit = parameters["limit"]["schema"]
                assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 50), path
                assert "opaque" in parameters["cursor"]["description"], path


def test_an_unreachable_database_is_a_documented_503_on_every_operation_that_touches_it(
    audit_key_file: Path,
) -> None:
    settings = Settings(database_url=REFUSING, audit_key_file=audit_key_file)
    with TestClient(create_app(settings, clock=FrozenClock(START))) as client:
        checked = Checked(client, client.get("/openapi.json").json())
        for method, path, has_body in _api_operations(client):
            if "503" not in checked.document["paths"][path][method.lower()]["responses"]:
                continue  # `/metrics` leaves the arrest counts out and still answers (test_saturation)
            body: dict[str, Any] = {"json": {}} if has_body else {}
            response = checked.send(method, path, headers={"Authorization": "Bearer pars_x_y"}, **body)
            assert response.status_code == 503, f"{method} {path}: {response.status_code}"
            assert int(response.headers["Retry-After"]) >= 1


def test_the_documented_records_require_what_each_caller_receives(document: dict[str, Any]) -> None:
    """A city user receives every member of the record; a partner only the members its agreement
    grants (an omitted one is absent): two models, each exact, and reading arrests answers either."""
    schemas = document["components"]["schemas"]
    city = schemas["ArrestRecord"]
    assert city["required"] == list(city["properties"]) and "sealed" in city["required"]
    assert schemas["PersonOut"]["required"] == list(schemas["PersonOut"]["properties"])
    shared = schemas["SharedRecord"]
    assert shared["required"] == ["id", "tracking_number", "status"]
    assert set(shared["properties"]) == set(city["properties"]) - {"sealed"}
    assert shared["properties"]["person"]["$ref"] == "#/components/schemas/SharedPerson"
    assert "required" not in schemas["SharedPerson"] and "required" not in schemas["SharedArrestDetails"]
    # Nothing a partner may lack is null-or-present in disguise: an ungranted member is absent.
    assert all("default" not in member for member in shared["properties"].values())
    paths = document["paths"]
    one = paths["/api/v1/arrests/{arrest_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in one["anyOf"]} == {"ArrestRecord", "SharedRecord"}
    many = paths["/api/v1/arrests"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {ref["$ref"].rsplit("/", 1)[-1] for ref in many["anyOf"]} == {"ArrestPage", "SharedPage"}
    booked = paths["/api/v1/arrests"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert booked == {"$ref": "#/components/schemas/ArrestRecord"}
