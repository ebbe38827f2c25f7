"""The ``draft:`` config reference as a Markdown table, generated from DraftSettings.

``python -m components.draft.reference`` rewrites the table in docs/draft.md (between the
``config-reference`` markers); tests/draft/test_docs.py fails when it is stale.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from components.draft.settings import DraftSettings

BEGIN = "<!-- config-reference:begin (python -m components.draft.reference) -->"
END = "<!-- config-reference:end -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "draft.md"


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return {**defs[ref.rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        merged = {**_resolve(options[0], defs), **{k: v for k, v in schema.items() if k != "anyOf"}}
        merged["nullable"] = True
        return merged
    return schema


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type", "any")
    if kind == "array":
        items = schema.get("items", {})
        return f"list of {_type(items) if 'properties' not in items else 'objects'}"
    if kind == "object" and ("additionalProperties" in schema or "patternProperties" in schema):
        values = [*schema.get("patternProperties", {}).values()]
        secret = any(v.get("writeOnly") for v in values)
        return "map of secret strings" if secret else "map"
    return str(kind)


def _rule(schema: dict[str, Any]) -> str:
    parts = []
    if "minimum" in schema or "maximum" in schema:
        parts.append(f"{schema.get('minimum', '')} to {schema.get('maximum', '')}")
    if "maxItems" in schema:
        parts.append(f"at most {schema['maxItems']}")
    if schema.get("writeOnly") or schema.get("format") == "password":
        parts.append("secret")
    return ", ".join(parts)


def _rows(
    schema: dict[str, Any],
    defs: dict[str, Any],
    prefix: str,
    defaults: dict[str, Any] | None = None,
) -> Iterator[tuple[str, str, str, str, str]]:
    """Rows of ``schema``'s properties; ``defaults`` (the enclosing default) win."""
    for name, raw in schema.get("properties", {}).items():
        field = _resolve(raw, defs)
        key = f"{prefix}{name}"
        items = _resolve(field.get("items", {}), defs) if field.get("type") == "array" else {}
        has_default = defaults is not None and name in defaults
        default = defaults[name] if has_default else raw.get("default", field.get("default"))  # type: ignore[index]
        has_default = has_default or "default" in raw or "default" in field
        if "properties" in field:
            yield from _rows(field, defs, f"{key}.", default if isinstance(default, dict) else None)
            continue
        shown = json.dumps(default) if has_default else "—"
        if "properties" in items:
            yield key, "list of objects", shown, _rule(field), field.get("description", "")
            yield from _rows(items, defs, f"{key}[].")
            continue
        yield key, _type(field), shown, _rule(field), field.get("description", "")


def reference_table() -> str:
    """Every ``draft:`` key: type, default, limit, and what it is for."""
    schema = DraftSettings.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    lines = ["| key | type | default | limit | what it is |", "| --- | --- | --- | --- | --- |"]
    for key, kind, default, rule, description in _rows(schema, defs, "draft:"):
        text = description.replace("|", "\\|").replace("\n", " ")
        shown = default.replace("|", "\\|")
        lines.append(f"| `{key}` | {kind} | `{shown}` | {rule} | {text} |")
    return "\n".join(lines) + "\n"


def render(document: str) -> str:
    """``document`` with its reference section replaced by the current table."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{reference_table()}{END}{tail}"


def main() -> int:
    DOC.write_text(render(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the config reference into {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
