"""transformers' own common test mixins, read from the installed version's source distribution.

The set-up step (`.ci/run`, the README's set-up line) fetches that sdist from the package registry:
    pip download --no-binary :all: --no-deps transformers==<installed version> -d .cache/transformers-sdist
and unpacks it there. Nothing here reaches the network and nothing of it is copied into this repository.
The sdist's `tests/` folder is imported as the package `transformers_tests`, with `transformers_shim/` laid
over it for the modules the sdist lacks. `MODA_TRANSFORMERS_SDIST` names another folder holding the archive
or its unpacked tree. With `MODA_REQUIRE_TRANSFORMERS_TESTS=1` (set by CI) a missing sdist fails, not skips.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import tarfile
from pathlib import Path

import pytest
import transformers

REPO = Path(__file__).resolve().parents[2]
SHIM = Path(__file__).resolve().parent / "transformers_shim"
VERSION = transformers.__version__
PACKAGE = "transformers_tests"


def sdist_tests_folder() -> Path | None:
    """`transformers-<version>/tests` of the unpacked sdist (unpacking the archive if only it is there)."""
    folder = Path(os.environ.get("MODA_TRANSFORMERS_SDIST", REPO / ".cache" / "transformers-sdist"))
    tests = folder / f"transformers-{VERSION}" / "tests"
    archive = folder / f"transformers-{VERSION}.tar.gz"
    if not tests.is_dir() and archive.is_file():
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(f"transformers-{VERSION}/tests/")]
            tar.extractall(folder, members=members, filter="data")
    if not (tests / "test_modeling_common.py").is_file():
        return None
    # the repository's tests/ is a package; the sdist drops its empty __init__.py, which
    # test_configuration_common executes (direct_transformers_import)
    (tests / "__init__.py").touch()
    return tests


def import_common(module: str):
    """`transformers_tests.<module>` from the sdist (e.g. "test_modeling_common"), or skip/fail clearly."""
    tests = sdist_tests_folder()
    if tests is None:
        reason = (
            f"transformers {VERSION}'s source distribution is not under .cache/transformers-sdist (run: pip "
            f"download --no-binary :all: --no-deps transformers=={VERSION} -d .cache/transformers-sdist)"
        )
        if os.environ.get("MODA_REQUIRE_TRANSFORMERS_TESTS") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason, allow_module_level=True)
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_loader(PACKAGE, loader=None, is_package=True)
        package = importlib.util.module_from_spec(spec)
        package.__path__ = [str(tests), str(SHIM)]  # the sdist's modules, then the shim's
        sys.modules[PACKAGE] = package
        sys.path.append(str(SHIM))  # test_processing_common imports `fetch_hub_objects_for_ci` top-level
    return importlib.import_module(f"{PACKAGE}.{module}")
