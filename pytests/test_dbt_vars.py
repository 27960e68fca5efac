"""Every dbt var is declared once, in dbt_project.yml, with a comment, and used.

A setting is declared in dbt_project.yml `vars:` (one-line comment above it, area prefix) and
read with `var('<name>')`, no inline default, from SQL, YAML (a Python model's
`config: settings:`), macros, tests, snapshots and analyses. These tests read those files as
text, so they also catch a var used only in a rarely built model.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from clientele.contract import TABLES

PROJECT = Path(__file__).resolve().parent.parent

# Where dbt reads var() calls: (folder, file endings).
SCANNED = (
    ("models", (".sql", ".yml")),
    ("python_models", (".yml", ".py")),
    ("macros", (".sql",)),
    ("tests", (".sql", ".yml")),
    ("snapshots", (".sql", ".yml")),
    ("analyses", (".sql", ".yml")),
    ("seeds", (".yml",)),
)
# A var() call: the name as a literal in quotes ('' inside a single-quoted YAML string),
# then a default or not.
VAR_CALL = re.compile(r"""\bvar\(\s*(?P<q>''|'|")(?P<name>[A-Za-z_]\w*)(?P=q)\s*(?P<rest>[,)])""")
ANY_VAR_CALL = re.compile(r"\bvar\(")
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)

# Python-model YAML that issue 12 ("One seam between dbt and Python") rewrites into
# `config: settings:` without defaults: the only files still allowed inline defaults.
# Remove a file from this set when its area is merged; the set must end empty.


def project_yml() -> str:
    return (PROJECT / "dbt_project.yml").read_text()


def declared() -> dict:
    return yaml.safe_load(project_yml())["vars"]


def scanned_files() -> list[Path]:
    files = []
    for folder, endings in SCANNED:
        files += [p for p in sorted((PROJECT / folder).rglob("*")) if p.suffix in endings]
    return files


def project_yml_outside_vars() -> str:
    """dbt_project.yml without its vars block (a config there could call var())."""
    text = project_yml()
    start = text.index("\nvars:\n")
    end = re.search(r"\n\S", text[start + 1:])
    return text[:start] + (text[start + 1 + end.start():] if end else "")


def calls() -> list[tuple[str, str, bool]]:
    """(file, var name, has an inline default) for every var() call outside comments."""
    found = []
    sources = [(p.relative_to(PROJECT).as_posix(), p.read_text()) for p in scanned_files()]
    sources.append(("dbt_project.yml", project_yml_outside_vars()))
    for name, text in sources:
        text = JINJA_COMMENT.sub("", text)
        literal = list(VAR_CALL.finditer(text))
        assert len(literal) == len(ANY_VAR_CALL.findall(text)), (
            f"{name}: a var() whose name is not a quoted literal; write the name out")
        found += [(name, m["name"], m["rest"] == ",") for m in literal]
    return found


def test_every_var_used_is_declared_in_dbt_project():
    missing = sorted({f"{var} ({file})" for file, var, _ in calls() if var not in declared()})
    assert not missing, "declare in dbt_project.yml vars: " + ", ".join(missing)


def test_every_declared_var_is_used():
    used = {var for _, var, _ in calls()}
    unused = sorted(set(declared()) - used)
    assert not unused, "declared in dbt_project.yml but used nowhere: " + ", ".join(unused)


def test_no_inline_defaults():
    with_default = {file for file, _, has_default in calls() if has_default}
    unexpected = sorted(with_default)
    assert not unexpected, (
        "var() with an inline default (declare the default in dbt_project.yml instead): "
        + ", ".join(unexpected))


def test_every_declared_var_has_a_comment_and_a_prefix():
    block = project_yml().split("\nvars:\n", 1)[1]
    lines = block.split("\n")
    names = set(declared())
    project_wide = {"raw_path", "as_of", "max_line_quantity"}
    areas = ("core_", "staging_", "segmentation_", "launch_", "retention_", "recommendations_",
             "clienteling_")
    for i, line in enumerate(lines):
        match = re.match(r"  ([a-z_0-9]+):", line)
        if not match or match[1] not in names:
            continue
        assert lines[i - 1].strip().startswith("#"), f"var {match[1]}: no comment line above it"
        assert match[1] in project_wide or match[1].startswith(areas), (
            f"var {match[1]}: prefix it with its area")


def test_raw_contract_macro_lists_the_contract_tables():
    """macros/contract.sql (quarantine, staging_reconciliation) = clientele.contract.TABLES."""
    text = (PROJECT / "macros" / "contract.sql").read_text()
    listed = ast.literal_eval(re.search(r"return\((\[.*?\])\)", text, re.S)[1])
    assert [(t["name"], tuple(t["key"])) for t in listed] == [(t.name, t.key) for t in TABLES]
    for table in listed:
        assert (PROJECT / "models" / "staging" / f"stg_{table['name']}.sql").exists()
        assert (PROJECT / "models" / "staging" / "base" / f"base_{table['name']}.sql").exists()
