"""DATA-area fixtures: a small synthetic catalog rendered once per session."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-item synthetic catalog (Kaggle layout), rendered once per session."""
    from modeling_moda.data.synth import synth_catalog

    out = tmp_path_factory.mktemp("synth") / "catalog"
    synth_catalog(out, n=60, seed=3, workers=1, progress=False)
    return out
