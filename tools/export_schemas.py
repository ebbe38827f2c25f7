"""Write the JSON Schema of every settings model to docs/schemas/ (``make schemas``).

The schemas describe the config keys under each namespace (``draft:``, ``staging:``, ``platform:``) as
they are written in Pulumi.<stack>.yaml. tests/unit/test_schemas.py fails when they are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from components.draft.settings import DraftSettings  # noqa: E402
from components.platform.settings import PlatformSettings  # noqa: E402
from components.staging.settings import StagingSettings  # noqa: E402

MODELS = {"draft": DraftSettings, "staging": StagingSettings, "platform": PlatformSettings}
OUT = REPO / "docs" / "schemas"


def render(namespace: str) -> str:
    schema = MODELS[namespace].model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["description"] = (
        f"Config keys under '{namespace}:' (" + (schema.get("description") or "") + ")"
    )
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for namespace in MODELS:
        (OUT / f"{namespace}.schema.json").write_text(render(namespace), encoding="utf-8")
        print(f"wrote docs/schemas/{namespace}.schema.json")


if __name__ == "__main__":
    main()
