"""What a server that constrains decoding to a JSON schema makes a model say: the smallest instance of the schema.

The toy model answers prompts it does not know with text; under an enforced schema (vLLM's guided decoding,
llama.cpp's grammar) that text cannot come out, and a schema-valid object does instead.
"""

from __future__ import annotations

from typing import Any


def instance(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """The first value the schema allows: its const or first enum value, required keys only, shortest lists."""
    defs = schema.get("$defs", {}) if defs is None else defs
    if "$ref" in schema:
        return instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return instance(schema[key][0], defs)
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: instance(properties.get(name, {}), defs) for name in schema.get("required", [])}
    if kind == "array":
        return [instance(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "hello".ljust(schema.get("minLength", 0), "o")
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    return True if kind == "boolean" else None
