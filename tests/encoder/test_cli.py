"""`moda encoder train` on the command line: a missing dataset is a clear error, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeling_moda.cli import main


def test_a_missing_dataset_is_named_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    missing = tmp_path / "no-such-dataset"
    code = main(["encoder", "train", "--dataset", str(missing), "--out", str(tmp_path / "enc")])
    assert code == 2
    assert str(missing) in capsys.readouterr().out
    assert not (tmp_path / "enc").exists()
