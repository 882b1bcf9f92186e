"""core.datasets.load_split: a save_to_disk folder, a Hub-layout data folder, limits and a missing split."""

import datasets
import pytest

from modeling_moda.core.datasets import load_split


@pytest.fixture
def splits() -> datasets.DatasetDict:
    return datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"id": [str(i) for i in range(5)]}),
            "test": datasets.Dataset.from_dict({"id": ["a", "b"]}),
        }
    )


def test_save_to_disk_folder_split_and_limit(tmp_path, splits):
    splits.save_to_disk(str(tmp_path / "saved"))
    assert load_split(str(tmp_path / "saved"), "train", limit=3)["id"] == ["0", "1", "2"]
    assert load_split(str(tmp_path / "saved"), "test", limit=10)["id"] == ["a", "b"]


def test_hub_layout_folder_as_moda_dataset_build_writes_it(tmp_path, splits):
    for name, split in splits.items():
        split.to_parquet(str(tmp_path / "built" / "data" / f"{name}-00000-of-00001.parquet"))
    assert load_split(str(tmp_path / "built"), "test")["id"] == ["a", "b"]


def test_a_missing_split_or_source_is_an_error_naming_it(tmp_path, splits):
    splits.save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(ValueError, match=r"saved: no split 'validation' \(has train, test\)"):
        load_split(str(tmp_path / "saved"), "validation")
    with pytest.raises(ValueError, match="no dataset given"):
        load_split("", "train")
