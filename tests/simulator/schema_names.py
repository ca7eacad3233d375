"""The names of a GraphQL schema as plain data: type -> kind, fields (type, arguments with
their types and defaults) or enum values. Descriptions and directives are left out: two
schemas with the same names here accept and answer the same documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    build_schema,
    print_ast,
)
from graphql.utilities import ast_from_value

DATA = Path(__file__).with_name("data")
REAL_SDL = DATA / "unified_schema.graphql"
REAL_NAMES = DATA / "unified_schema_names.json"


def _argument(name: str, argument: Any) -> str:
    """`name: Type = default`, the default as the schema writes it."""
    node = argument.ast_node.default_value if argument.ast_node is not None else None
    if node is not None:
        return f"{name}: {argument.type} = {print_ast(node)}"
    shown = _shown(argument.default_value, argument.type)
    return f"{name}: {argument.type}" + (f" = {shown}" if shown is not None else "")


def _shown(value: Any, type_: Any) -> str | None:
    if value is Undefined:
        return None
    node = ast_from_value(value, type_)
    return print_ast(node) if node is not None else None


def schema_names(schema: GraphQLSchema) -> dict[str, Any]:
    """type -> {"kind", "fields": {field: "(arg: T = default, ...): T"} or "values": [...]}."""
    names: dict[str, Any] = {}
    for name, type_ in sorted(schema.type_map.items()):
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLEnumType):
            names[name] = {"kind": "enum", "values": list(type_.values)}
        elif isinstance(type_, GraphQLScalarType):
            names[name] = {"kind": "scalar"}
        elif isinstance(type_, GraphQLInputObjectType):
            names[name] = {"kind": "input", "fields": {
                field: _argument("", f)[2:]
                for field, f in type_.fields.items()}}
        elif isinstance(type_, GraphQLObjectType):
            fields = {}
            for field, f in type_.fields.items():
                args = ", ".join(_argument(a, arg) for a, arg in f.args.items())
                fields[field] = (f"({args}): " if args else "") + str(f.type)
            names[name] = {"kind": "type", "fields": fields}
    return names


def real_schema() -> GraphQLSchema:
    return build_schema(REAL_SDL.read_text(encoding="utf-8"))


def real_names() -> dict[str, Any]:
    return json.loads(REAL_NAMES.read_text(encoding="utf-8"))


if __name__ == "__main__":
    # Regenerate the JSON list after a deliberate change of the SDL file.
    REAL_NAMES.write_text(json.dumps(schema_names(real_schema()), indent=1) + "\n",
                          encoding="utf-8")
