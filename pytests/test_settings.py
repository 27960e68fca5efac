"""Every area's settings dataclass (``clientele/<area>/settings.py``) has the dbt defaults:
each setting a dbt Python model receives through its YAML ``config: settings:`` is one
``var('<area>_<name>')`` declared in ``dbt_project.yml`` (no inline default), and the
var's value is the dataclass field's default. So a notebook user and ``dbt build`` get
the same model, and a default is written in one place for dbt and one for Python, checked
to agree."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from clientele.seam import AreaSettings, _coerce

ROOT = Path(__file__).resolve().parents[1]
PYTHON_MODELS = ROOT / "python_models"
VAR_CALL = re.compile(r"^\{\{\s*var\(\s*['\"](?P<name>\w+)['\"]\s*\)\s*\}\}$")
READS_SETTINGS = 'dbt.config.get("settings")'


def project_vars() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def area_settings() -> dict[str, type[AreaSettings]]:
    """area -> its settings dataclass, for every clientele/<area>/settings.py."""
    found = {}
    for path in sorted((ROOT / "clientele").glob("*/settings.py")):
        module = importlib.import_module(f"clientele.{path.parent.name}.settings")
        classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
                   if issubclass(c, AreaSettings) and c is not AreaSettings
                   and c.__module__ == module.__name__]
        assert len(classes) == 1, f"{path}: one AreaSettings subclass expected, got {classes}"
        found[path.parent.name] = classes[0]
    return found


def wired_models() -> list[tuple[str, str, dict[str, Any]]]:
    """(area, model, settings mapping) of every model whose YAML config has settings."""
    wired = []
    for path in sorted([*PYTHON_MODELS.rglob("*.yml"), *(ROOT / "models").rglob("*.yml")]):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            settings = (model.get("config") or {}).get("settings")
            if settings is not None:
                area = path.relative_to(PYTHON_MODELS).parts[0] if path.is_relative_to(
                    PYTHON_MODELS) else "?"
                wired.append((area, model["name"], settings))
    return wired


WIRED = wired_models()
SETTINGS = area_settings()


def test_settings_are_found() -> None:
    assert SETTINGS, "no clientele/<area>/settings.py"
    assert WIRED, "no model receives settings"


@pytest.mark.parametrize(("area", "model", "settings"), WIRED, ids=[m for _, m, _ in WIRED])
def test_model_settings_are_declared_vars_equal_to_the_dataclass_defaults(
        area: str, model: str, settings: dict[str, Any]) -> None:
    assert area in SETTINGS, f"{model}: settings but no clientele/{area}/settings.py"
    cls = SETTINGS[area]
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    declared = project_vars()
    for name, value in settings.items():
        assert name in defaults, f"{model}: {name} is not a field of {cls.__name__}"
        match = VAR_CALL.match(str(value).strip())
        assert match, f"{model}: setting {name} must be exactly {{{{ var('{area}_...') }}}}"
        var = match["name"]
        assert var.startswith(f"{area}_"), f"{model}: var {var} lacks the prefix {area}_"
        assert var in declared, f"{model}: var {var} is not declared in dbt_project.yml"
        assert _coerce(declared[var], hints[name], name) == defaults[name], (
            f"{model}: dbt_project.yml {var} = {declared[var]!r} but "
            f"{cls.__name__}.{name} defaults to {defaults[name]!r}")


@pytest.mark.parametrize("area", sorted(SETTINGS))
def test_every_settings_field_reaches_dbt(area: str) -> None:
    """A field no model receives could not be changed from dbt: every field is wired."""
    wired = {name for a, _, settings in WIRED if a == area for name in settings}
    fields = {f.name for f in dataclasses.fields(SETTINGS[area])}
    assert fields <= wired, f"{area}: fields not wired to any model: {sorted(fields - wired)}"


def test_python_models_read_settings_literally_where_yaml_gives_them() -> None:
    """dbt passes a config key only to models that read it with a literal
    dbt.config.get("settings"), and a model reading it must have it in its YAML."""
    with_yaml = {model for _, model, _ in WIRED}
    for path in sorted(PYTHON_MODELS.rglob("*.py")):
        text = path.read_text()
        reads = READS_SETTINGS in text
        assert reads == (path.stem in with_yaml), (
            f"{path.relative_to(ROOT)}: reads settings {reads}, YAML settings "
            f"{path.stem in with_yaml}")
        if ".from_config(" in text:
            assert reads, f"{path.relative_to(ROOT)}: from_config without {READS_SETTINGS}"
