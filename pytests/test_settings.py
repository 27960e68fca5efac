"""Every area's settings dataclass has the dbt defaults: for each dbt Python model whose
YAML wires ``config: settings:`` to vars, the var declared in dbt_project.yml equals the
default of the field it feeds (a notebook user gets the same model as ``dbt build``)."""

from __future__ import annotations

import dataclasses
import importlib
import re
import typing
from pathlib import Path

import pytest
import yaml

from clientele import seam

ROOT = Path(__file__).resolve().parents[1]
VAR = re.compile(r"^\{\{\s*var\(\s*['\"]([A-Za-z0-9_]+)['\"]\s*\)\s*\}\}$")
SETTINGS_CLASS = re.compile(r"(\w+)\.from_config\(\s*dbt\.config\.get\(\s*['\"]settings['\"]\s*\)")


def _project_vars() -> dict[str, object]:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def _wired_models() -> list[tuple[str, Path, dict[str, str]]]:
    """(model, its Python file, settings mapping) for every model with config.settings."""
    found = []
    for path in sorted((ROOT / "python_models").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            settings = (model.get("config") or {}).get("settings")
            if settings is not None:
                found.append((model["name"], path.parent / f"{model['name']}.py", settings))
    return found


def _settings_class(python_file: Path) -> type[seam.AreaSettings]:
    source = python_file.read_text()
    match = SETTINGS_CLASS.search(source)
    assert match, f"{python_file.name} reads no settings with dbt.config.get('settings')"
    name = match.group(1)
    module = re.search(rf"from ([\w.]+) import [^\n]*\b{name}\b", source)
    assert module, f"{python_file.name}: where does {name} come from?"
    cls = getattr(importlib.import_module(module.group(1)), name)
    assert issubclass(cls, seam.AreaSettings) and dataclasses.is_dataclass(cls)
    return cls


WIRED = _wired_models()


def test_some_models_read_their_settings_from_vars():
    assert WIRED, "no dbt Python model wires config.settings"


@pytest.mark.parametrize(("model", "python_file", "settings"), WIRED,
                         ids=[m for m, _, _ in WIRED])
def test_settings_defaults_are_the_dbt_vars(model, python_file, settings):
    cls = _settings_class(python_file)
    declared = _project_vars()
    hints = typing.get_type_hints(cls)
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for field, value in settings.items():
        assert field in defaults, f"{model}: {field} is not a field of {cls.__name__}"
        match = VAR.match(str(value).strip())
        assert match, f"{model}.{field}: {value!r} is not {{{{ var('<name>') }}}} (no inline default)"
        var = match.group(1)
        assert var in declared, f"{model}.{field}: var {var} is not declared in dbt_project.yml"
        dbt_value = seam._coerce(declared[var], hints[field], field)
        assert dbt_value == defaults[field], (
            f"{model}.{field}: dbt_project.yml {var} = {declared[var]!r}, "
            f"{cls.__name__} default = {defaults[field]!r}")
    # The wired mapping, rendered from the declared vars, builds the default settings.
    rendered = {f: declared[VAR.match(str(v).strip()).group(1)] for f, v in settings.items()}
    assert cls.from_config(rendered) == cls.from_config({})
