"""The report, the export list, the dbt exposures and the selectors stay in step."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from clientele.export import EXPORT_TABLES, TABLES_BY_NAME

PROJECT = Path(__file__).resolve().parent.parent
REPORT = PROJECT / "reports"
AREAS = ("segmentation", "launch", "retention", "recommendations", "clienteling")


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def exposures() -> list[dict]:
    return load_yaml(PROJECT / "models" / "exposures.yml")["exposures"]


def project_models() -> set[str]:
    """Names of the dbt models in this checkout (SQL and Python files)."""
    names = set()
    for folder in ("models", "python_models"):
        for path in (PROJECT / folder).rglob("*"):
            if path.suffix in {".sql", ".py"} and not path.name.startswith("_"):
                names.add(path.stem)
    return names


def test_one_exposure_per_report_page():
    pages = sorted(p.relative_to(PROJECT).as_posix() for p in (REPORT / "pages").glob("*.md"))
    exposed = sorted(e["meta"]["page"] for e in exposures())
    assert exposed == pages


def test_exposures_read_exported_tables_and_ref_every_one_that_exists():
    models = project_models()
    for exposure in exposures():
        refs = {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in exposure["depends_on"]}
        assert refs <= models, f"{exposure['name']} refs a model that does not exist"
        for table in exposure["meta"]["reads"]:
            assert table in TABLES_BY_NAME, f"{exposure['name']}: {table} is not exported"
            if table in models:
                # Fails after an area is merged until its `# ref after merge` line is a ref.
                assert table in refs, (
                    f"{table} exists now: make it a ref of exposure {exposure['name']} "
                    "in models/exposures.yml"
                )


def test_report_sources_only_read_exported_tables():
    read = set()
    for sql in (REPORT / "sources" / "clientele").glob("*.sql"):
        text = sql.read_text()
        files = re.findall(r"\.\./exports/current/(\w+)\.(parquet|json)", text)
        assert files, f"{sql.name} does not read the published exports"
        read |= {name for name, ext in files if ext == "parquet"}
        assert "warehouse" not in text, f"{sql.name} must not open the warehouse"
    assert read <= set(TABLES_BY_NAME)
    for exposure in exposures():
        assert set(exposure["meta"]["reads"]) <= read


def test_every_page_filters_the_placeholder_row():
    """Sources add one placeholder row for a table not built yet; pages must drop it."""
    placeholder_sources = {
        p.stem for p in (REPORT / "sources" / "clientele").glob("*.sql")
        if "is_placeholder" in p.read_text()
    }
    for page in (REPORT / "pages").glob("*.md"):
        for query in re.findall(r"```sql \w+\n(.*?)```", page.read_text(), flags=re.S):
            used = set(re.findall(r"clientele\.(\w+)", query)) & placeholder_sources
            if used:
                # `not is_placeholder`, or `not alias.is_placeholder` in a join
                assert re.search(r"not (\w+\.)?is_placeholder", query), (
                    f"{page.name}: {query.strip()[:80]}")


def test_every_selector_is_one_tag():
    selectors = {s["name"]: s for s in load_yaml(PROJECT / "selectors.yml")["selectors"]}
    assert set(selectors) == {*AREAS, "export"}
    for area in AREAS:
        assert selectors[area]["definition"] == {"method": "tag", "value": area}
    assert selectors["export"]["definition"] == {"method": "tag", "value": "export", "parents": True}
    for exposure in exposures():
        assert "export" in exposure["config"]["tags"], exposure["name"]


def test_area_tags_are_set_by_folder_only():
    """dbt_project.yml tags each area's folders; no model, seed or snapshot sets a tag itself."""
    project = load_yaml(PROJECT / "dbt_project.yml")
    models = project["models"]["clientele"]
    for area in AREAS:
        assert models["intermediate"][area]["+tags"] == [area]
        assert models["marts"][area]["+tags"] == [area]
        assert models[area]["+tags"] == [area]  # python_models/<area>/
    for path in [*(PROJECT / "models").rglob("*.yml"), *(PROJECT / "python_models").rglob("*.yml"),
                 *(PROJECT / "seeds").rglob("*.yml"), *(PROJECT / "snapshots").rglob("*.yml")]:
        if path.name == "exposures.yml":
            continue
        for nodes in (load_yaml(path) or {}).values():
            for node in nodes if isinstance(nodes, list) else []:
                config = node.get("config") or {}
                assert "tags" not in node and "tags" not in config, (
                    f"{path.relative_to(PROJECT)}: {node.get('name')} sets its own tags")
    for path in [*(PROJECT / "models").rglob("*.sql"), *(PROJECT / "python_models").rglob("*.py")]:
        assert not re.search(r"tags\s*=", path.read_text()), f"{path.name} sets tags in config()"


def test_export_list_names_each_table_once_with_typed_columns():
    names = [t.name for t in EXPORT_TABLES]
    assert len(names) == len(set(names))
    for table in EXPORT_TABLES:
        assert table.area in {*AREAS, "core", "monitoring"}
        for column, type_ in table.columns:
            assert re.fullmatch(r"[a-z_][a-z0-9_]*", column)
            assert type_ in {"varchar", "bigint", "integer", "double", "boolean", "date"}
