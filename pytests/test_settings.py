"""Every area's settings dataclass has the dbt defaults.

A setting reaches a dbt Python model as ``config: settings: {name: "{{ var('<area>_x') }}"}``
in its YAML (python_models/<area>/*.yml), and the var's default is declared once, in
dbt_project.yml ``vars:``. The area's dataclass (clientele/<area>/settings.py) has its own
defaults, for notebooks and tests: they must be the same, or a notebook user and
``dbt build`` get different models.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest
import yaml

from clientele.seam import AreaSettings

ROOT = Path(__file__).resolve().parents[1]
VAR_CALL = re.compile(r"""^\{\{\s*var\(\s*['"]([A-Za-z0-9_]+)['"]\s*\)\s*\}\}$""")
AREAS = sorted(p.parent.name for p in (ROOT / "clientele").glob("*/settings.py"))


def _project_vars() -> dict:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def _settings_class(area: str) -> type[AreaSettings]:
    module = importlib.import_module(f"clientele.{area}.settings")
    found = [c for c in vars(module).values() if isinstance(c, type)
             and issubclass(c, AreaSettings) and c.__module__ == module.__name__]
    assert len(found) == 1, f"clientele/{area}/settings.py: one AreaSettings subclass, got {found}"
    return found[0]


def _wired(area: str) -> list[tuple[str, str, object]]:
    """(model, setting, YAML value) for every ``config: settings:`` entry of the area."""
    out = []
    for path in sorted((ROOT / "python_models" / area).glob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            settings = (model.get("config") or {}).get("settings") or {}
            out += [(model["name"], name, value) for name, value in settings.items()]
    return out


def test_every_area_with_python_models_has_settings():
    assert "launch" in AREAS


@pytest.mark.parametrize("area", AREAS)
def test_wired_settings_are_declared_vars_equal_to_the_dataclass_defaults(area):
    cls = _settings_class(area)
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    project_vars = _project_vars()
    wired = _wired(area)
    assert wired, f"no python_models/{area}/*.yml model receives settings"
    for model, name, value in wired:
        match = VAR_CALL.match(str(value).strip())
        assert match, f"{model}.{name}: {value!r} is not a var() without an inline default"
        var = match.group(1)
        assert var.startswith(f"{area}_"), f"{model}.{name}: var {var} lacks the {area}_ prefix"
        assert var in project_vars, f"{model}.{name}: var {var} is not declared in dbt_project.yml"
        assert name in defaults, f"{model}.{name}: {cls.__name__} has no field {name}"
        from_dbt = getattr(cls.from_config({name: project_vars[var]}), name)
        assert from_dbt == defaults[name], (
            f"{var}: dbt_project.yml says {project_vars[var]!r}, "
            f"{cls.__name__}.{name} defaults to {defaults[name]!r}")


@pytest.mark.parametrize("area", AREAS)
def test_every_setting_is_a_dbt_var(area):
    """A field no model receives would have no dbt default to agree with."""
    cls = _settings_class(area)
    wired = {name for _, name, _ in _wired(area)}
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in wired]
    assert not missing, f"{cls.__name__} fields no model receives: {missing}"


@pytest.mark.parametrize("area", AREAS)
def test_models_with_settings_read_them_literally(area):
    """dbt-duckdb passes a config key only to a model that reads it with a literal
    ``dbt.config.get("settings")``."""
    for model in {m for m, _, _ in _wired(area)}:
        code = (ROOT / "python_models" / area / f"{model}.py").read_text()
        assert 'dbt.config.get("settings")' in code, model
