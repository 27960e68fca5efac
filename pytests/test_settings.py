"""Every area's settings dataclass has the dbt defaults.

A dbt Python model gets its settings through its YAML ``config: settings:`` mapping, each
value ``{{ var('<area>_<name>') }}`` of a var declared once in ``dbt_project.yml``; the
area's ``clientele.<area>.settings`` dataclass (an ``AreaSettings``) must default to the
same values, so that a notebook user and ``dbt build`` get the same model.
"""

import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import pytest
import yaml

from clientele.seam import AreaSettings

ROOT = Path(__file__).resolve().parents[1]
VAR = re.compile(r"^\{\{\s*var\(\s*'([a-z0-9_]+)'\s*\)\s*\}\}$")


def _project_vars() -> dict:
    return yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]


def _wired() -> list[tuple[str, str, str, object]]:
    """(area, model, setting, YAML value) for every setting of every Python model."""
    out = []
    for path in sorted((ROOT / "python_models").glob("*/*.yml")):
        for model in yaml.safe_load(path.read_text()).get("models") or []:
            settings = (model.get("config") or {}).get("settings") or {}
            out += [(path.parent.name, model["name"], name, value)
                    for name, value in settings.items()]
    return out


def _settings_class(area: str) -> type[AreaSettings]:
    module = importlib.import_module(f"clientele.{area}.settings")
    found = [c for _, c in inspect.getmembers(module, inspect.isclass)
             if issubclass(c, AreaSettings) and c is not AreaSettings
             and c.__module__ == module.__name__]
    assert len(found) == 1, f"clientele.{area}.settings: expected one AreaSettings subclass"
    return found[0]


AREAS = sorted({area for area, *_ in _wired()})


def test_every_setting_is_a_declared_var_without_inline_default():
    declared = _project_vars()
    assert _wired(), "no Python model reads settings"
    for area, model, name, value in _wired():
        match = VAR.match(str(value).strip())
        assert match, f"{model}.{name}: {value!r} is not {{{{ var('<name>') }}}}"
        assert match.group(1).startswith(f"{area}_"), f"{model}.{name}: var not area-prefixed"
        assert match.group(1) in declared, f"{model}.{name}: var {match.group(1)} not declared"


@pytest.mark.parametrize("area", AREAS)
def test_settings_defaults_equal_the_dbt_vars(area):
    cls = _settings_class(area)
    defaults = cls()
    declared = _project_vars()
    fields = {f.name for f in dataclasses.fields(cls)}
    wired = {}
    for _, model, name, value in (w for w in _wired() if w[0] == area):
        assert name in fields, f"{model}: {name} is not a field of {cls.__name__}"
        var = VAR.match(str(value).strip()).group(1)
        wired.setdefault(name, set()).add(var)
        # dbt renders the var to its YAML value; from_config types it as the field.
        from_dbt = getattr(cls.from_config({name: declared[var]}), name)
        assert from_dbt == getattr(defaults, name), (
            f"{cls.__name__}.{name} = {getattr(defaults, name)!r} but var {var} = "
            f"{declared[var]!r}")
    assert all(len(v) == 1 for v in wired.values()), f"a setting reads two vars: {wired}"
    unwired = sorted(fields - set(wired))
    assert not unwired, f"{cls.__name__} fields no model reads from a var: {unwired}"
