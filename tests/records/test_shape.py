"""The derivations from the record's one definition (`pars.records.shape`), on small models of
their own: what is grantable, labels, instants, and the partner's model with absent members."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, TypeAdapter

from pars.records import shape
from pars.records.shape import Instant, Sharing, shared_from

EAST = timezone(timedelta(hours=-5))


class Head(BaseModel):
    id: Annotated[int, Field(title="Id")]


class Inner(BaseModel):
    when: Annotated[Instant, Field(title="When")]
    note: Annotated[str | None, Field(title="Note")]


class Item(BaseModel):
    ended: Instant | None


class Whole(Head):
    secret: Annotated[bool, Sharing.CITY_ONLY]
    inner: Annotated[Inner, Sharing.BY_MEMBER, Field(title="Inner")]
    items: Annotated[list[Item], Field(title="Items")]
    text: Annotated[str | None, Field(title="Text")]
    at: Annotated[Instant, Field(title="At")]


@shared_from(Whole, Head)
class Shared(Head):
    """Whole, as shared."""


def test_grantable_members_leave_out_the_head_and_the_city_only_and_open_those_granted_by_member() -> None:
    found = shape.grantable(Whole, Head)
    assert [(g.name, g.members) for g in found] == [
        ("inner", ("when", "note")), ("items", None), ("text", None), ("at", None),
    ]  # fmt: skip
    assert [p for g in found for p in g.paths] == ["inner.when", "inner.note", "items", "text", "at"]


def test_labels_come_from_titles_in_every_model_and_a_grantable_member_without_one_is_refused() -> None:
    assert shape.labels(Whole, Head) == {
        "id": "Id", "inner": "Inner", "items": "Items", "text": "Text", "at": "At", "when": "When", "note": "Note",
    }  # fmt: skip

    class Unlabelled(Head):
        inner: Annotated[Inner, Sharing.BY_MEMBER, Field(title="Inner")]
        plain: str  # grantable, no title

    with pytest.raises(ValueError, match=r"without a label.*plain"):
        shape.labels(Unlabelled, Head)

    class Nested(BaseModel):
        bare: int

    class UnlabelledMember(Head):
        nested: Annotated[Nested, Sharing.BY_MEMBER, Field(title="Nested")]

    with pytest.raises(ValueError, match=r"without a label.*bare"):
        shape.labels(UnlabelledMember, Head)

    class Clash(Head):
        inner: Annotated[Inner, Sharing.BY_MEMBER, Field(title="Inner")]
        note: Annotated[str, Field(title="Remark")]  # `note` is labelled "Note" in Inner

    with pytest.raises(ValueError, match="'note' is labelled both"):
        shape.labels(Clash, Head)


def test_a_city_only_member_needs_no_label_and_a_model_granted_by_member_must_be_a_model() -> None:
    class Odd(Head):
        numbers: Annotated[list[int], Sharing.BY_MEMBER, Field(title="Numbers")]

    with pytest.raises(TypeError, match="must be a model"):
        shape.grantable(Odd, Head)


def test_instants_are_found_wherever_they_are_held() -> None:
    assert shape.instants(Whole) == {"when", "ended", "at"}


def test_an_instant_leaves_in_utc_in_the_isoformat_form_and_is_documented_as_date_time() -> None:
    item = Item(ended=datetime(2026, 3, 17, 9, 30, tzinfo=EAST))
    assert item.model_dump_json() == '{"ended":"2026-03-17T14:30:00+00:00"}'
    schema = TypeAdapter(Item).json_schema(mode="serialization")["properties"]["ended"]
    assert {"type": "string", "format": "date-time"} in schema["anyOf"]


def _whole() -> Whole:
    at = datetime(2026, 3, 17, 9, 30, tzinfo=EAST)
    return Whole(
        id=1, secret=True, inner=Inner(when=at, note=None), items=[Item(ended=None)], text=None, at=at,
    )  # fmt: skip


def test_the_shared_model_has_every_grantable_member_and_leaves_out_what_was_not_given() -> None:
    whole = _whole()
    assert set(Shared.model_fields) == {"id", "inner", "items", "text", "at"}
    assert Shared.__doc__ == "Whole, as shared."
    given = Shared.model_validate({"id": 1, "inner": {"note": None}, "text": None, "at": whole.at})
    # Absent is absent; null given stays null; an instant keeps its form through the projection.
    assert given.model_dump_json() == '{"id":1,"inner":{"note":null},"text":null,"at":"2026-03-17T14:30:00+00:00"}'
    assert given.model_dump(mode="json") == json.loads(given.model_dump_json())
    assert Shared(id=2).model_dump_json() == '{"id":2}'
    # Everything given: the same JSON as the whole record without its city-only member.
    members: dict[str, Any] = {k: getattr(whole, k) for k in Shared.model_fields}
    members["inner"] = dict(whole.inner)  # granted member by member: its members, not the model
    full = Shared.model_validate(members)
    assert json.loads(full.model_dump_json()) == {
        k: v for k, v in json.loads(whole.model_dump_json()).items() if k != "secret"
    }


def test_the_shared_model_documents_every_member_but_the_head_as_optional() -> None:
    schema: dict[str, Any] = TypeAdapter(Shared).json_schema(mode="serialization")
    assert schema["required"] == ["id"]
    assert all("default" not in member for member in schema["properties"].values())
    inner = schema["$defs"]["SharedInner"]
    assert "required" not in inner and set(inner["properties"]) == {"when", "note"}
    assert inner["properties"]["when"]["format"] == "date-time"
    assert schema["properties"]["at"]["format"] == "date-time"
