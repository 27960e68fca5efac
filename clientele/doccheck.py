"""Check that every built model and every one of its columns is described.

Reads dbt's manifest.json (what the YAML documents) and catalog.json (what the
warehouse actually holds, from `dbt docs generate`) in a target folder.
Usage: python -m clientele.doccheck TARGET_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def undocumented(target: Path, package: str = "clientele") -> list[str]:
    """Models without a description and built columns missing from their YAML."""
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    problems: list[str] = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model" or node["package_name"] != package:
            continue
        name = node["name"]
        if not node.get("description", "").strip():
            problems.append(f"{name}: no description")
        documented = {
            col.lower() for col, meta in node.get("columns", {}).items()
            if meta.get("description", "").strip()
        }
        built = catalog["nodes"].get(unique_id)
        if built is None:
            continue
        for column in built["columns"]:
            if column.lower() not in documented:
                problems.append(f"{name}.{column}: not described in YAML")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m clientele.doccheck TARGET_DIR", file=sys.stderr)
        return 2
    target = Path(args[0])
    if not (target / "catalog.json").exists():
        print(f"doccheck: {target}: no catalog.json; run `dbt docs generate` first", file=sys.stderr)
        return 2
    problems = undocumented(target)
    for problem in problems:
        print(f"undocumented: {problem}")
    if problems:
        print(f"{len(problems)} documentation gaps", file=sys.stderr)
        return 1
    print("every model and column is described")
    return 0


if __name__ == "__main__":
    sys.exit(main())
