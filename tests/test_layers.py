"""Imports flow one way: config → model → results → experiments → report → cli, and no cycle.

Every module of ``flowsim/`` is parsed with ``ast``; every import counts, at the top of a file,
inside a function or under ``TYPE_CHECKING``. A module may import modules of its own layer or of
an earlier one.
"""

import ast
import functools
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "flowsim"
LAYERS = {
    # vocabulary and tools every layer may use; none of them imports a later module
    "base": {"domain", "errors", "files", "intervals", "labels", "version"},
    "config": {"config", "changes"},
    "model": {"agents", "benefits", "choice", "community", "counters", "county", "csv_county",
              "encounters", "facilities", "illness", "inpatient", "model", "outpatient",
              "payment", "policy", "population", "preflight", "providers", "streams",
              "synthetic_county"},
    "results": {"indicators", "results", "api", "elasticities"},
    "experiments": {"experiments", "calibrate"},
    "report": {"figures", "formats", "report", "export"},
    "app": {"explorer", "app"},
    "cli": {"cli", "__main__", "__init__"},
}
ORDER = list(LAYERS)
LAYER = {module: ORDER.index(layer) for layer, modules in LAYERS.items() for module in modules}
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def imports_of(source: str) -> set[str]:
    """The flowsim modules a module's source imports (``__init__`` for the package itself)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "flowsim":
                    found.add(parts[1] if len(parts) > 1 else "__init__")
        elif isinstance(node, ast.ImportFrom):
            parts = (node.module or "").split(".") if node.level == 0 else [
                "flowsim", *filter(None, (node.module or "").split("."))]
            if parts[0] != "flowsim":
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:  # from flowsim import x: a module of the package, or a name of __init__
                found |= {a.name if (PACKAGE / f"{a.name}.py").is_file() else "__init__"
                          for a in node.names}
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    return {m: imports_of((PACKAGE / f"{m}.py").read_text("utf-8")) - {m} for m in modules()}


def test_the_collector_sees_every_kind_of_import():
    source = """
from __future__ import annotations
import flowsim
import flowsim.model as m
from flowsim import figures, run
from flowsim.config import Scenario
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from flowsim.results import Results
def later():
    from flowsim import report
    from . import cli
"""
    assert imports_of(source) == {"__init__", "model", "figures", "config", "results", "report",
                                  "cli"}


def test_every_module_has_a_layer():
    unassigned = set(modules()) - set(LAYER)
    assert not unassigned, f"give these modules a layer in LAYERS: {sorted(unassigned)}"
    assert not set(LAYER) - set(modules()), "LAYERS names a module that no longer exists"


@pytest.mark.parametrize("module", modules())
def test_imports_go_to_the_same_or_an_earlier_layer(module):
    later = sorted(
        f"{target} ({ORDER[LAYER[target]]})" for target in graph()[module]
        if LAYER.get(target, 0) > LAYER.get(module, 0) and (module, target) not in KNOWN_EXCEPTIONS)
    assert not later, f"{module} ({ORDER[LAYER.get(module, 0)]}) imports later modules: {later}"


def test_no_import_cycle():
    edges = {m: {t for t in targets if (m, t) not in KNOWN_EXCEPTIONS}
             for m, targets in graph().items()}
    graphlib.TopologicalSorter(edges).prepare()  # raises CycleError naming the cycle


def test_known_exceptions_still_exist():
    """An exception that the code no longer needs is deleted here, so it cannot hide a new one."""
    edges = graph()
    assert all(target in edges[module] for module, target in KNOWN_EXCEPTIONS)
