"""The layers hold: remote-code files -> core -> areas (which never import each other) -> cli / pipeline.

Two checks, because each misses what the other sees:
- static: every `import` / `from ... import` in each area's source, at module level or inside a function,
  resolved (relative ones too) to the `modeling_moda` sub-package it names;
- at run time: a fresh interpreter imports every module of one area and lists which `modeling_moda`
  modules came with it (catches an edge through a package `__init__` or a re-export).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(importlib.util.find_spec("modeling_moda").origin).parent
AREAS = [
    area
    for area in ("backends", "data", "encoder", "training", "evaluation", "inference", "serving")
    if importlib.util.find_spec(f"modeling_moda.{area}") is not None
]
REMOTE_CODE = (
    "configuration_moda",
    "modeling_moda",
    "processing_moda",
    "pipeline_moda",
    "modeling_moda_encoder",
)
# What any area may import: the core, the remote-code files, the builder that assembles a MODA from them,
# and the backends (the chat endpoints that teachers and judges talk to).
BELOW_AREAS = {"core", "builder", *REMOTE_CODE}
SHARED_AREA = "backends"


def allowed(importer: str, imported: str) -> bool:
    """Whether the layer `importer` (an area, "core" or "remote") may import `modeling_moda.<imported>`."""
    if imported == importer:
        return True
    if importer == "remote":
        return imported in REMOTE_CODE
    if importer in ("core", "builder"):
        return imported in REMOTE_CODE
    return imported in BELOW_AREAS or (imported == SHARED_AREA and importer != SHARED_AREA)


def imported_layers(path: Path, root: Path) -> list[tuple[str, int]]:
    """(sub-package or top module of modeling_moda, line) for every import in `path` under `root`."""
    package = path.relative_to(root.parent).parts[:-1]  # ("modeling_moda", "data", "readers")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            base += node.module.split(".") if node.module else []
            # `from modeling_moda import data` / `from .. import data` name the sub-package in the alias
            names = [base + [alias.name] for alias in node.names] if len(base) == 1 else [base]
        else:
            continue
        found += [
            (parts[1], node.lineno) for parts in names if parts[0] == "modeling_moda" and len(parts) > 1
        ]
    return found


def violations(layer: str, files: list[Path], root: Path = PACKAGE) -> list[str]:
    return [
        f"{path.relative_to(root.parent).as_posix()}:{line} imports modeling_moda.{imported}"
        for path in files
        for imported, line in imported_layers(path, root)
        if not allowed(layer, imported)
    ]


@pytest.mark.parametrize("area", [*AREAS, "core"])
def test_no_area_source_names_another_area(area):
    assert violations(area, sorted((PACKAGE / area).rglob("*.py"))) == []


def test_remote_code_and_builder_sources_import_only_each_other():
    files = [PACKAGE / f"{name}.py" for name in REMOTE_CODE]
    assert violations("remote", files) + violations("builder", [PACKAGE / "builder.py"]) == []


def test_the_static_check_sees_function_local_and_relative_imports(tmp_path):
    fake = tmp_path / "modeling_moda"
    (fake / "data" / "readers").mkdir(parents=True)
    source = (
        "from ...evaluation import lexicon\n"
        "from ...core import schema\n"
        "def f():\n"
        "    import modeling_moda.training.run\n"
        "    from modeling_moda import inference\n"
        "    from ...backends.cache import JsonlCache\n"
    )
    (fake / "data" / "readers" / "x.py").write_text(source)
    assert violations("data", [fake / "data" / "readers" / "x.py"], root=fake) == [
        "modeling_moda/data/readers/x.py:1 imports modeling_moda.evaluation",
        "modeling_moda/data/readers/x.py:4 imports modeling_moda.training",
        "modeling_moda/data/readers/x.py:5 imports modeling_moda.inference",
    ]


# One interpreter loads the heavy third-party libraries once, then forks a child per layer: each child starts
# with no modeling_moda module loaded, imports every module of its layer and reports which modeling_moda
# modules came along (third-party libraries cannot pull in modeling_moda, so sharing them changes nothing).
LIST_IMPORTS = """
import importlib, json, os, pkgutil, sys, traceback
import datasets, numpy, PIL.Image, torch, transformers
from transformers import AutoModel, PreTrainedModel, ProcessorMixin, Trainer, TrainerCallback, pipeline

def walk(name):
    spec = importlib.util.find_spec(name)
    found = [name]
    if spec.submodule_search_locations:
        found += [m.name for m in pkgutil.walk_packages(spec.submodule_search_locations, name + ".")]
    return found

report = {}
for name in sys.argv[1:]:
    read, write = os.pipe()
    if os.fork() == 0:
        os.close(read)
        try:
            for module in walk(name):
                importlib.import_module(module)
            result = sorted(m for m in sys.modules if m.startswith("modeling_moda."))
        except BaseException:
            result = traceback.format_exc()
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report[name] = json.loads(pipe.read())
    os.wait()
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """layer -> the layers (sub-packages / top modules of modeling_moda) loaded with every module of it."""
    names = [f"modeling_moda.{layer}" for layer in (*AREAS, "core", *REMOTE_CODE)]
    done = subprocess.run(
        [sys.executable, "-c", LIST_IMPORTS, *names], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    failed = {name: result for name, result in report.items() if isinstance(result, str)}
    assert not failed, failed  # a module that does not import at all
    return {
        name.split(".")[1]: {module.split(".")[1] for module in result} for name, result in report.items()
    }


@pytest.mark.slow
@pytest.mark.parametrize("area", [*AREAS, "core"])
def test_importing_an_area_loads_no_other_area(loaded, area):
    assert area in loaded[area]
    assert {layer for layer in loaded[area] if not allowed(area, layer)} == set()


@pytest.mark.slow
@pytest.mark.parametrize("name", REMOTE_CODE)
def test_importing_the_remote_code_loads_nothing_else(loaded, name):
    assert loaded[name] <= set(REMOTE_CODE)
