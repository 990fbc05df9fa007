"""CONTRACT §7: NUL and other control characters are refused everywhere (422 in a JSON string,
naming the field; 400 in a query parameter or a partner header), never a 500; the partner
headers are at most 64 printable characters; a chunked body over 1 MiB is 413."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, StringConstraints, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pars.inputs import InboundModel
from pars.records.models import Arrest
from pars.records.search import SEARCH_PARAMETERS
from tests.conftest import User, arrest_body

CONTROLS = [chr(c) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]


class _Sample(InboundModel):
    name: Annotated[str, StringConstraints(max_length=200)]
    narrative: Annotated[str, StringConstraints(max_length=20000)] | None = None
    tags: list[str] = Field(default_factory=list)


@given(st.text(), st.sampled_from(CONTROLS), st.text())
def test_no_control_character_passes_a_short_text(before: str, control: str, after: str) -> None:
    with pytest.raises(ValidationError) as raised:
        _Sample(name=before[:90] + control + after[:90])
    assert raised.value.errors()[0]["loc"] == ("name",)


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs"))))
def test_text_without_control_characters_passes(text: str) -> None:
    assert _Sample(name=text[:200], narrative=text, tags=[text]).name == text[:200]


def test_free_text_keeps_tab_and_newline_but_nothing_else() -> None:
    assert _Sample(name="x", narrative="one\tline\r\nand another\n").narrative
    for control in ("\x00", "\x1b", "\x7f", "\x85", "\x0b"):
        with pytest.raises(ValidationError):
            _Sample(name="x", narrative=f"a{control}b")
    with pytest.raises(ValidationError):
        _Sample(name="a\nb")
    with pytest.raises(ValidationError) as raised:
        _Sample(name="x", tags=["fine", "not\x00fine"])
    assert raised.value.errors()[0]["loc"] == ("tags",)


def _booking_with(path: tuple[str, ...], value: str) -> dict[str, Any]:
    body = arrest_body()
    target: Any = body
    for part in path[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("person", "name", "last"), "Pe\x00a"),
        (("person", "name", "first"), "A\x00"),
        (("narrative",), "a fight\x00"),
        (("arrest", "incident_number"), "2624\x000001"),
        (("arrest", "location"), "Kensington\x1b[31m"),
        (("charges", "0", "statute"), "18 \x00 2701"),
        (("person", "name", "last"), "lone \ud800 surrogate"),
    ],
)
def test_a_control_character_in_a_booking_is_422_naming_the_field(
    client: TestClient, booking: User, session: Session, path: tuple[str, ...], value: str
) -> None:
    # Escaped JSON (\u0000, \ud800), as a client's encoder sends it.
    body = json.dumps(_booking_with(path, value))
    headers = {**booking.headers, "Content-Type": "application/json"}
    response = client.post("/api/v1/arrests", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    field = ".".join(f"[{p}]" if p.isdigit() else p for p in path).replace(".[", "[")
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert value not in response.text
    assert session.scalar(select(func.count()).select_from(Arrest)) == 0


def test_tab_and_newline_stay_allowed_in_the_narrative(client: TestClient, booking: User) -> None:
    response = client.post(
        "/api/v1/arrests", json=arrest_body(narrative="First line.\n\tSecond line."), headers=booking.headers
    )
    assert response.status_code == 201
    assert response.json()["narrative"] == "First line.\n\tSecond line."


@pytest.mark.parametrize("parameter", [*sorted(SEARCH_PARAMETERS), "cursor", "limit"])
def test_a_control_character_in_any_search_parameter_is_400(client: TestClient, booking: User, parameter: str) -> None:
    response = client.get("/api/v1/arrests", params={parameter: "a\x00b"}, headers=booking.headers)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert parameter in response.json()["detail"]


@pytest.mark.parametrize("header", ["PARS-Purpose", "PARS-Case-Reference"])
@pytest.mark.parametrize(
    ("value", "problem"),
    [(b"x" * 65, "at most 64"), (b"FBI\x85case", "printable"), (b"\xa0" * 10 + b"\x9b", "printable")],
)
def test_partner_headers_are_at_most_64_printable_characters(
    client: TestClient, booking: User, header: str, value: bytes, problem: str
) -> None:
    headers: dict[str, str | bytes] = {**booking.headers, header: value}
    response = client.get("/api/v1/arrests", params={"last_name": "Peña"}, headers=headers)
    assert response.status_code == 400, response.text
    assert header in response.json()["detail"] and problem in response.json()["detail"]


def test_a_case_reference_of_64_characters_is_accepted(client: TestClient, booking: User) -> None:
    headers = {**booking.headers, "PARS-Case-Reference": "C" * 64}
    assert client.get("/api/v1/arrests", params={"last_name": "Peña"}, headers=headers).status_code == 200


def test_a_chunked_body_over_one_mebibyte_is_413(client: TestClient, booking: User, session: Session) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    response = client.post(
        "/api/v1/arrests", content=chunks(), headers={**booking.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert session.scalar(select(func.count()).select_from(Arrest)) == 0


def test_a_chunked_body_under_the_cap_is_read_whole(client: TestClient, booking: User) -> None:
    encoded = json.dumps(arrest_body()).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(encoded), 100):
            yield encoded[start : start + 100]

    response = client.post(
        "/api/v1/arrests", content=chunks(), headers={**booking.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
