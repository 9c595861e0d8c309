"""Build ``vapi-function-tool.schema.json`` from Vapi's OpenAPI spec (run by hand, not by pytest).

    python tests/data/make_function_tool_schema.py path/to/openapi.json

The output is the JSON Schema (draft 2020-12) of ``CreateFunctionToolDTO``, the body of a
function tool in an assistant's ``model.tools``, with ``$defs`` holding the transitive
closure of the component schemas it references.  The same patches as
``server-message.schema.json`` make the raw spec usable as JSON Schema:

1. ``#/components/schemas/X`` becomes ``#/$defs/X``.
2. JS regex literals (``"/^[a-z]+$/"``) lose their delimiters.
3. ``BackoffPlan.type`` is declared ``object`` but carries a string enum: typed ``string``.
4. Nested ``oneOf`` becomes ``anyOf`` (union members overlap).
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = "CreateFunctionToolDTO"
OUTPUT = Path(__file__).with_name("vapi-function-tool.schema.json")
_JS_REGEX = re.compile(r"^/(.*)/[a-z]*$", re.DOTALL)


def references(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value.rsplit("/", 1)[1])
            else:
                references(value, found)
    elif isinstance(node, list):
        for value in node:
            references(value, found)


def patch(node: Any) -> Any:
    if isinstance(node, list):
        return [patch(value) for value in node]
    if not isinstance(node, dict):
        return node
    patched = {}
    for key, value in node.items():
        if key == "$ref":
            value = "#/$defs/" + value.rsplit("/", 1)[1]
        elif key == "pattern" and isinstance(value, str):
            match = _JS_REGEX.match(value)
            value = match.group(1) if match else value
        elif key == "oneOf":
            key = "anyOf"
        patched[key] = patch(value)
    if patched.get("type") == "object" and "enum" in patched:
        patched["type"] = "string"
    return patched


def build(openapi_path: Path) -> dict[str, Any]:
    raw = openapi_path.read_bytes()
    schemas = json.loads(raw)["components"]["schemas"]
    closure: set[str] = set()
    pending = [ROOT]
    while pending:
        name = pending.pop()
        if name not in closure:
            closure.add(name)
            found: set[str] = set()
            references(schemas[name], found)
            pending.extend(found - closure)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": (
            f"{ROOT} and its $defs from Vapi's OpenAPI spec (sha256 "
            f"{hashlib.sha256(raw).hexdigest()}), built by make_function_tool_schema.py."
        ),
        "$ref": f"#/$defs/{ROOT}",
        "$defs": {name: patch(schemas[name]) for name in sorted(closure)},
    }


if __name__ == "__main__":
    schema = build(Path(sys.argv[1]))
    OUTPUT.write_text(json.dumps(schema, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT} ({len(schema['$defs'])} definitions)")
