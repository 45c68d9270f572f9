"""The REST endpoints' request and response bodies, defined once as frozen dataclasses.

The handlers build their JSON from these classes and read their requests through them, and the
OpenAPI document (`web/openapi.py`) derives its JSON Schemas from the same classes: what the
document says and what the server does cannot drift apart. A class's docstring is its schema's
description; a field's `describe(...)` metadata its property's description and bounds. Property
names are the fields' names in camelCase.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
import uuid
from datetime import datetime
from typing import Any, Literal, TypeVar

T = TypeVar("T")


def describe(
    description: str,
    *,
    max_length: int | None = None,
    pattern: str | None = None,
    formats: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A field's metadata: its description and, for a string, its longest accepted length, the
    pattern it matches, or the JSON Schema formats (any of them) it has."""
    return {
        "description": description,
        "max_length": max_length,
        "pattern": pattern,
        "formats": formats,
    }


@functools.cache
def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


_FIELDS: dict[type, list[tuple[dataclasses.Field[Any], Any]]] = {}


def _fields(cls: type) -> list[tuple[dataclasses.Field[Any], Any]]:
    """A shape's fields with their resolved hints, computed once per class (resolving the
    hints compiles each annotation: too costly per request)."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _FIELDS[cls] = [(field, hints[field.name]) for field in dataclasses.fields(cls)]
    return found


def _type_schema(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        inner = (
            _type_schema(options[0])
            if len(options) == 1
            else {"anyOf": [_type_schema(option) for option in options]}
        )
        return {"anyOf": [inner, {"type": "null"}]}
    if origin is Literal:
        return {"type": "string", "enum": list(typing.get_args(hint))}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return {"type": "string", "enum": [member.value for member in hint]}
    simple: dict[Any, dict[str, Any]] = {
        str: {"type": "string"},
        bool: {"type": "boolean"},
        int: {"type": "integer"},
        float: {"type": "number"},
        uuid.UUID: {"type": "string", "format": "uuid"},
        datetime: {"type": "string", "format": "date-time"},
    }
    return dict(simple[hint])


def json_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a shape."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field, hint in _fields(cls):
        schema = _type_schema(hint)
        meta = field.metadata
        if meta.get("formats"):
            options = [{"type": "string", "format": kind} for kind in meta["formats"]]
            schema = {"anyOf": [*options, {"type": "null"}] if "anyOf" in schema else options}
        if meta.get("max_length") is not None:
            schema["maxLength"] = meta["max_length"]
        if meta.get("pattern") is not None:
            schema["pattern"] = meta["pattern"]
        if meta.get("description"):
            schema["description"] = meta["description"]
        properties[camel(field.name)] = schema
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            required.append(camel(field.name))
    return {
        "type": "object",
        "description": " ".join((cls.__doc__ or "").split()),
        "properties": properties,
        "required": required,
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def to_json(shape: Any, *, omit: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A shape as its JSON object; fields named in `omit` (optional ones) are left out."""
    return {
        camel(field.name): _json_value(getattr(shape, field.name))
        for field, _ in _fields(type(shape))
        if field.name not in omit
    }


class ShapeError(ValueError):
    """A request body that does not match its shape; the message is for the client."""


def from_json(cls: type[T], body: Any) -> T:
    """Read a request body into its shape (string fields; the bounds the schema states)."""
    if not isinstance(body, dict):
        raise ShapeError("The body must be a JSON object.")
    values: dict[str, Any] = {}
    for field, hint in _fields(cls):
        name = camel(field.name)
        value = body.get(name)
        if value is None and hint == str | None:  # an optional string left out
            values[field.name] = None
            continue
        if hint not in (str, str | None) or not isinstance(value, str):
            raise ShapeError(f'The body needs a string "{name}".')
        max_length = field.metadata.get("max_length")
        if max_length is not None and len(value) > max_length:
            raise ShapeError(f'"{name}" is longer than {max_length} characters.')
        values[field.name] = value
    return cls(**values)
