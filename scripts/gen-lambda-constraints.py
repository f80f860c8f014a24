#!/usr/bin/env python3
"""Generates crates/lambdabox-lambda/src/constraints.json from botocore's Lambda model.

For every operation, each top-level input member's location (body, querystring,
header), the name it travels under, its type and its constraints (min, max,
pattern, enum), in the model's member order. Members in the URI are left out:
the path names the resource, and its FunctionName is parsed where it is read.
Run it with the test environment's Python after upgrading botocore:

    .venv/bin/python scripts/gen-lambda-constraints.py
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session

OUT = Path(__file__).resolve().parents[1] / "crates" / "lambdabox-lambda" / "src" / "constraints.json"

# (operation, member): why the model's constraint is not applied as a ValidationException.
NOT_APPLIED = {
    ("CreateFunction", "Runtime"): "AWS answers an unknown runtime with InvalidParameterValueException",
    ("UpdateFunctionConfiguration", "Runtime"): "the runtime registry answers with AWS's deprecation messages",
}


def main() -> None:
    model = botocore.session.get_session().get_service_model("lambda")
    table: dict[str, list[dict]] = {}
    for name in sorted(model.operation_names):
        op = model.operation_model(name)
        if op.input_shape is None:
            continue
        members = []
        for member, shape in op.input_shape.members.items():
            location = shape.serialization.get("location", "body")
            if location == "uri" or (name, member) in NOT_APPLIED:
                continue
            entry = {
                "member": member,
                "location": location,
                "name": shape.serialization.get("name", member),
                "type": shape.type_name,
            }
            for key in ("min", "max", "pattern"):
                if key in shape.metadata:
                    entry[key] = shape.metadata[key]
            if getattr(shape, "enum", None):
                entry["enum"] = list(shape.enum)
            if len(entry) > 4:
                members.append(entry)
        if members:
            table[name] = members
    OUT.write_text(json.dumps({"_source": f"botocore {botocore.__version__} lambda {model.api_version}",
                               "operations": table}, indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({sum(len(m) for m in table.values())} members of {len(table)} operations)")


if __name__ == "__main__":
    main()
