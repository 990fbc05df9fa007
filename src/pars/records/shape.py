"""What the record's one definition (`pars.records.record`) says beyond its types, and what is
derived from it: the dotted field names agreements grant, the labels pages show, the members
that are instants, and the partner's model in which every grantable member may be absent.

Generic over pydantic models, so the derivations are tested on small models of their own; the
record's members are written once, in `pars.records.record`, and nowhere else.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import MISSING, BaseModel, Field, PlainSerializer, WithJsonSchema, create_model
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)


class Sharing(Enum):
    """How a member of the record is granted, written as `Annotated` metadata on the member.
    Unmarked, a member beyond the head is granted whole, by its own name (`charges`)."""

    BY_MEMBER = "by_member"  # each of its own members is granted by a dotted name (`person.dob`)
    CITY_ONLY = "city_only"  # never granted, never in a partner's record (`sealed`)


def _utc_iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


class _InstantMark:
    """Marks the `Instant` type, so pages can find the members that hold one."""


INSTANT_MARK = _InstantMark()

# Instants leave PARS in UTC, whatever offset they arrived with: `2026-03-17T13:30:00+00:00`
# (Python's `isoformat`, not pydantic's `Z`), byte for byte what the API has always sent.
Instant = Annotated[
    datetime,
    PlainSerializer(_utc_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
    INSTANT_MARK,
]


@dataclass(frozen=True)
class Grantable:
    """A top-level member a partner may be granted: whole (``members`` None) or member by member."""

    name: str
    members: tuple[str, ...] | None

    @property
    def paths(self) -> tuple[str, ...]:
        """Its dotted field names (CONTRACT §4)."""
        return (self.name,) if self.members is None else tuple(f"{self.name}.{m}" for m in self.members)


def _sharing(info: FieldInfo) -> Sharing | None:
    return next((m for m in info.metadata if isinstance(m, Sharing)), None)


def _nested_model(info: FieldInfo) -> type[BaseModel]:
    annotation = info.annotation
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        raise TypeError(f"a member granted by member must be a model, not {annotation!r}")
    return annotation


def grantable(record: type[BaseModel], head: type[BaseModel]) -> tuple[Grantable, ...]:
    """The members of ``record`` a partner may be granted, in the record's order: every member
    not in ``head`` (always present) and not marked city-only."""
    found = []
    for name, info in record.model_fields.items():
        sharing = _sharing(info)
        if name in head.model_fields or sharing is Sharing.CITY_ONLY:
            continue
        members = tuple(_nested_model(info).model_fields) if sharing is Sharing.BY_MEMBER else None
        found.append(Grantable(name, members))
    return tuple(found)


def _types_in(annotation: Any) -> Iterator[Any]:
    """The annotation and every type and `Annotated` metadata inside it (`list[X] | None` → X)."""
    yield annotation
    if typing.get_origin(annotation) is Annotated:
        yield from typing.get_args(annotation)[1:]
        yield from _types_in(typing.get_args(annotation)[0])
        return
    for argument in typing.get_args(annotation):
        yield from _types_in(argument)


def models_in(record: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """The record's model and every model its members hold, each once, outermost first."""
    seen: list[type[BaseModel]] = []
    queue = [record]
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            queue += [t for t in _types_in(info.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    yield from seen


def labels(record: type[BaseModel], head: type[BaseModel]) -> dict[str, str]:
    """Member name → label (its ``title``), over every model of the record, for pages that show a
    record member by member. Pages look labels up by member name alone, so one name has one label
    wherever it occurs; every grantable member must have one (else the page would show a raw key)."""
    found: dict[str, str] = {}
    for model in models_in(record):
        for name, info in model.model_fields.items():
            if info.title is None:
                continue
            if found.setdefault(name, info.title) != info.title:
                raise ValueError(f"member {name!r} is labelled both {found[name]!r} and {info.title!r}")
    needed = [*head.model_fields, *(p.rsplit(".", 1)[-1] for g in grantable(record, head) for p in g.paths)]
    unlabelled = [name for name in needed if name not in found]
    if unlabelled:
        raise ValueError(f"grantable members without a label (title): {', '.join(unlabelled)}")
    return found


def instants(record: type[BaseModel]) -> frozenset[str]:
    """The names of the members that hold an `Instant`, in any model of the record."""
    return frozenset(
        name
        for model in models_in(record)
        for name, info in model.model_fields.items()
        if any(t is INSTANT_MARK for t in _types_in(info.annotation)) or INSTANT_MARK in info.metadata
    )


def _absent_allowed(info: FieldInfo, annotation: Any | None = None) -> tuple[Any, Any]:
    """A member that may be absent: `MISSING` until set, and then left out of the JSON (not null)
    and not required by the schema."""
    absent: Any = MISSING  # a sentinel, whose type the checker does not follow into the union
    kept = Field(default=absent, title=info.title, description=info.description, examples=info.examples)
    if annotation is None:
        # pydantic keeps a member's outer `Annotated` metadata apart from its type: put it back, or
        # the member would lose its serialiser (an `Instant` would leave as pydantic's `Z` form).
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return annotation | absent, kept


def _partial(model: type[BaseModel], name: str) -> type[BaseModel]:
    fields = {member: _absent_allowed(info) for member, info in model.model_fields.items()}
    built: type[BaseModel] = create_model(name, __module__=model.__module__, **fields)  # type: ignore[call-overload]
    built.__doc__ = f"`{model.__name__}` as a partner receives it: only the members its agreement grants."
    return built


def shared_from(record: type[BaseModel], head: type[BaseModel]) -> Callable[[type[M]], type[M]]:
    """Class decorator: completes ``head``'s subclass with every grantable member of ``record``, each
    allowed to be absent (a member granted member by member holds a model of its own with absent
    members: `SharedPerson`). The checker sees the class as written, with the head only: the rest
    of a partner's record is reached by serialising it, never by an attribute that may be absent."""

    def complete(cls: type[M]) -> type[M]:
        fields = {}
        for member in grantable(record, head):
            info = record.model_fields[member.name]
            if member.members is None:
                fields[member.name] = _absent_allowed(info)
            else:
                nested = _partial(_nested_model(info), f"Shared{_nested_model(info).__name__.removesuffix('Out')}")
                fields[member.name] = _absent_allowed(info, nested)
        built: type[M] = create_model(  # type: ignore[call-overload]
            cls.__name__, __base__=cls, __module__=cls.__module__, __doc__=cls.__doc__, **fields
        )
        return built

    return complete
