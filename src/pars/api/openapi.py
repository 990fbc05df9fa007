"""The OpenAPI document, exact about errors: every status an operation can answer is documented,
each error as `application/problem+json` with one shared schema (CONTRACT §3).

The error statuses of an operation are derived in one place (`error_statuses`) from what the
route is made of, because that is what produces them:
- every `/api/v1` operation (behind the shared `api_request` dependency) authenticates (401),
  checks a role and refuses record-field probes among its query parameters (403), refuses
  unknown query parameters and bad partner headers (400), and touches the database (503 with
  `Retry-After` when it is saturated or unreachable); so does any other route that opens a
  request session;
- a path parameter can name nothing (404); a typed parameter or a body can be invalid (422);
- a body can be malformed JSON (400), too large (413) or too slow to arrive (408);
- every POST accepts an `Idempotency-Key`: reused with another request it is 422, while the
  first request still runs 409.
What a service adds beyond these (a quota's 429, a 409 on a DELETE, a 404 for an id in a body)
the route declares with `also(...)` in its decorator; the document fills in the content.

The tests walk the route table and provoke these statuses (tests/api/test_openapi.py), and
schemathesis checks every answer against this document (tests/api/test_schemathesis.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.routing import BaseRoute

from pars.api.deps import API_PREFIX, PARTNER_HEADERS, get_session
from pars.api.problems import PROBLEM
from pars.inputs import HEADER_TEXT_LENGTH

# Why each status is answered, in the words of CONTRACT §3.
REASONS = {
    400: "Malformed JSON, an unknown query parameter, a forged cursor, or a parameter or partner header with a "
    "control character or over its length.",
    401: "No API key, or an unknown or revoked one.",
    403: "Authenticated but not allowed: the role lacks the action; for partners no agreement in force, or the "
    "purpose, channel, field or search is not permitted. A query parameter naming a record field is refused "
    "as a probe.",
    404: "No such resource, or a record outside the caller's agreement scope (never revealed to exist).",
    408: "The request body did not arrive within the deadline; the connection is closed.",
    409: "A step the current state does not allow, a duplicate, an overlap; or a request with the same "
    "Idempotency-Key is still in progress.",
    413: "The body is over 1 MiB.",
    422: "Well-formed but invalid: `errors` names each field and what is wrong with it.",
    429: "Over the agreement's daily query limit; `Retry-After` says how many seconds until midnight, city time.",
    503: "The database is saturated or unreachable, or the service has no room for the request in time; "
    "nothing changed, retry after `Retry-After` seconds.",
}
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer", "minimum": 0}}
}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}}}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1 to 255 printable ASCII characters (a random UUID is best). A repeat with the same key and "
    "body by the same user within 24 hours returns the first answer and changes nothing; the same key with "
    "another request is 422.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}


class FieldProblem(BaseModel):
    field: str = Field(description="the member or parameter, dotted (`person.dob`, `charges[0].grade`)")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details. Extension members (such as `reason` and `persons` on a refused
    ambiguous search) may follow; none ever echoes protected data."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="`about:blank`: the status and title say what happened")
    title: str
    status: int
    detail: str = Field(description="what was wrong, without echoing protected values")
    errors: list[FieldProblem] | None = Field(None, description="422 only: one entry per invalid field")


class InvalidProblem(Problem):
    """A 422: always names the fields that were invalid."""

    errors: list[FieldProblem]  # required here


def also(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: error statuses its service adds to the derived ones."""
    return {status: {"description": REASONS[status]} for status in statuses}


def error_statuses(route: Any, method: str) -> set[int]:
    """Every error status the operation can answer (see the module docstring). ``route``: an
    API route as included in the app (`fastapi.routing.RouteContext`), with the dependencies
    its router added."""
    declared = {int(status) for status in route.responses if str(status).isdigit() and int(status) >= 400}
    if not is_api(route):
        # A public route that reads the database (a request session) can find it saturated too.
        return declared | ({503} if _depends_on(route.dependant, get_session) else set())
    kinds = _parameter_kinds(route.dependant)
    statuses = {400, 401, 403, 503} | declared
    if "path" in kinds:
        statuses.add(404)
    if kinds or method == "POST":
        statuses.add(422)
    if "body" in kinds:
        statuses |= {408, 413}
    if method == "POST":
        statuses.add(409)
    return statuses


def _parameter_kinds(dependant: Dependant) -> set[str]:
    """Where the route and its dependencies take parameters from: path, query, header, body."""
    kinds = {
        kind
        for kind, fields in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
            ("header", dependant.header_params),
            ("body", dependant.body_params),
        )
        if fields
    }
    for sub in dependant.dependencies:
        kinds |= _parameter_kinds(sub)
    return kinds


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return any(sub.call is call or _depends_on(sub, call) for sub in dependant.dependencies)


def is_api(route: Any) -> bool:
    """Under `/api/v1`, where every route is behind the shared request dependency
    (`pars.app.api_request`): authenticated, parameters checked, one transaction."""
    return str(route.path).startswith(API_PREFIX + "/")


def operations(routes: Sequence[BaseRoute]) -> Iterator[tuple[Any, str]]:
    """(route, method) of every documented operation, routers' prefixes and dependencies applied."""
    for route in iter_route_contexts(routes):
        if isinstance(route.original_route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods or ()):
                yield route, method


def _error_response(status: int, kept: dict[str, Any] | None) -> dict[str, Any]:
    """A problem+json response, or the route's own (`/healthz` answers its 503 in its own shape)."""
    if kept is not None:
        response = dict(kept)
    else:
        model = "InvalidProblem" if status == 422 else "Problem"
        response = {
            "description": REASONS[status],
            "content": {PROBLEM: {"schema": {"$ref": f"#/components/schemas/{model}"}}},
        }
    headers = {**(RETRY_AFTER if status in (429, 503) else {}), **(WWW_AUTHENTICATE if status == 401 else {})}
    if headers:
        response["headers"] = {**response.get("headers", {}), **headers}
    return response


def _complete_operation(route: Any, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # FastAPI's own 422 (HTTPValidationError) is not what this service answers: replaced below.
    responses.pop("422", None)
    for status in sorted(error_statuses(route, method)):
        own = route.responses.get(status, {})
        kept = responses.get(str(status)) if "model" in own or "content" in own else None
        responses[str(status)] = _error_response(status, kept)
    if not is_api(route):
        return
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    for parameter in parameters:
        if parameter["in"] == "header" and parameter["name"] in PARTNER_HEADERS:
            parameter["schema"] = {"type": "string", "maxLength": HEADER_TEXT_LENGTH}
    if method == "POST":
        parameters.append(dict(IDEMPOTENCY_KEY))
        for code, response in responses.items():
            if str(code).startswith("2"):
                response["headers"] = {**response.get("headers", {}), **REPLAYED}
    if not parameters:
        operation.pop("parameters")


def complete(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """Adds the error responses, the shared problem schemas and the idempotency header to a
    document FastAPI generated from ``routes``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, InvalidProblem):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(definition.pop("$defs", {}))
        components[model.__name__] = definition
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for route, method in operations(routes):
        operation = schema["paths"][route.path_format][method.lower()]
        _complete_operation(route, method, operation)
    return schema


def install(app: FastAPI) -> None:
    """Replaces the app's document generator with one that completes the document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = complete(schema, app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
