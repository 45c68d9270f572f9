"""The schema is the documentation: every type, field, argument, input field and enum value
has a description, read from the introspection result as GraphiQL and code generators read it.
A new element without one fails here, named."""

from __future__ import annotations

from typing import Any

from graphql import get_introspection_query

from schema import build_schema


def undescribed(introspection: dict[str, Any]) -> list[str]:
    """Every schema element whose description is missing or blank, by its coordinate."""
    missing: list[str] = []

    def check(coordinate: str, element: dict[str, Any]) -> None:
        if not (element.get("description") or "").strip():
            missing.append(coordinate)

    for kind in introspection["__schema"]["types"]:
        name = kind["name"]
        if name.startswith("__"):
            continue
        check(name, kind)
        for field in kind.get("fields") or []:
            check(f"{name}.{field['name']}", field)
            for argument in field["args"]:
                check(f"{name}.{field['name']}({argument['name']}:)", argument)
        for field in kind.get("inputFields") or []:
            check(f"{name}.{field['name']}", field)
        for value in kind.get("enumValues") or []:
            check(f"{name}.{value['name']}", value)
    return missing


def test_every_schema_element_is_described() -> None:
    # given
    result = build_schema().execute_sync(get_introspection_query(descriptions=True))
    assert result.errors is None and result.data is not None
    # when
    missing = undescribed(result.data)
    # then
    assert missing == [], f"{len(missing)} schema elements have no description:\n" + "\n".join(
        missing
    )


def test_the_check_finds_an_element_without_a_description() -> None:
    introspection: dict[str, Any] = {
        "__schema": {
            "types": [
                {
                    "name": "Thing",
                    "description": "A thing.",
                    "fields": [{"name": "size", "description": None, "args": []}],
                    "inputFields": None,
                    "enumValues": None,
                }
            ]
        }
    }
    assert undescribed(introspection) == ["Thing.size"]
