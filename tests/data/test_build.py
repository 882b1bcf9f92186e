"""`moda dataset build` with the template teacher, end to end: Hub layout -> `load_dataset` round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pytest
import yaml

from modeling_moda.cli import main as moda
from modeling_moda.core.lexicon import extract_attributes
from modeling_moda.data.build import build_dataset, split_of
from modeling_moda.data.config import BuildConfig, load_build_config
from modeling_moda.data.ocr_check import remove_printed_text


@pytest.fixture(scope="module")
def built(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the synthetic catalog with two broken rows, built with the CLI."""
    catalog = tmp_path_factory.mktemp("catalog") / "c"
    shutil.copytree(synth_dir, catalog)
    with (catalog / "styles.csv").open("a") as handle:
        handle.write("99999,Men,Apparel,Topwear,Tshirts,Red,Summer,2012,Casual,Lost Tee\n")  # no image
        handle.write("10001,Men,Apparel,Topwear,Tshirts,Red,Summer,2012,Casual,Dup Tee\n")  # duplicate id
    out = tmp_path_factory.mktemp("built") / "ds"
    assert moda(["dataset", "build", "--source", str(catalog), "--out", str(out), "--quiet"]) == 0
    return catalog, out


def test_load_dataset_round_trip(built: tuple[Path, Path]) -> None:
    _, out = built
    ds = datasets.load_dataset(str(out))
    assert set(ds) == {"train", "validation", "test"}
    assert isinstance(ds["train"].features["image"], datasets.Image)
    rows = [row for split in ds.values() for row in split.remove_columns("image")]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 59  # 60 good items + 2 bad rows; both copies of 10001 rejected
    assert "10001" not in ids and "99999" not in ids
    for split, part in ds.items():
        assert all(split_of(i, 0.1, 0.1) == split for i in part["id"])
    row = ds["train"][0]
    assert row["image"].size == (240, 320)
    assert row["teacher"] == row["refiner"] == "template:template-v1" and row["prompt_version"] == "v1"
    assert json.loads(row["attributes"])["colour"] == row["base_colour"].lower()


def test_descriptions_agree_with_metadata_and_carry_no_printed_words(built: tuple[Path, Path]) -> None:
    catalog, out = built
    printed = {
        json.loads(line)["id"]: json.loads(line)["text"] for line in (catalog / "printed_text.jsonl").open()
    }
    ds = datasets.concatenate_datasets(list(datasets.load_dataset(str(out)).values())).remove_columns("image")
    quoted = 0
    for row in ds:
        claims = extract_attributes(row["description"])
        assert claims["colours"] == [row["base_colour"]] and row["article_type"] in claims["article_types"]
        assert claims["genders"] == [row["gender"]] and claims["usages"] == [row["usage"]]
        if row["id"] in printed:
            quoted += printed[row["id"]] in row["raw_description"]  # the teacher "read" it off the photo...
            assert printed[row["id"]].lower() not in row["description"].lower()  # ...the final text drops it
    assert quoted == sum(i in ds["id"] for i in printed) > 0


def test_card_rejects_and_stats(built: tuple[Path, Path]) -> None:
    _, out = built
    card = (out / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert meta["task_categories"] == ["image-to-text"] and meta["size_categories"] == ["n<1K"]
    assert {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]} == {
        split: len(part) for split, part in datasets.load_dataset(str(out)).items()
    }
    assert "catalog: duplicate id | 2" in card and "catalog: image file not found | 1" in card
    assert "raw descriptions that quoted printed text:" in card and "Prompt II" in card
    rejects = [json.loads(line) for line in (out / "rejects" / "rejects-00000-of-00001.jsonl").open()]
    assert sorted(r["id"] for r in rejects) == ["10001", "10001", "99999"]


def test_rerun_makes_no_calls_and_same_rows(built: tuple[Path, Path]) -> None:
    catalog, out = built
    before = {p.name: p.read_bytes() for p in (out / "data").iterdir()}
    stats = build_dataset(str(catalog), out, progress=False)
    assert stats["teacher_calls"] == stats["refiner_calls"] == 0
    assert {p.name: p.read_bytes() for p in (out / "data").iterdir()} == before


def test_shards_partition_the_catalog(synth_dir: Path, tmp_path: Path) -> None:
    for index in range(3):
        build_dataset(str(synth_dir), tmp_path, num_shards=3, shard_index=index, progress=False)
    ids = [i for part in datasets.load_dataset(str(tmp_path)).values() for i in part["id"]]
    assert len(ids) == len(set(ids)) == 60
    assert "3 of 3 shards" not in (tmp_path / "README.md").read_text()  # complete: no partial-build note
    names = [path.name for path in (tmp_path / "data").glob("*.parquet")]
    assert {name.split("-of-")[0].split("-", 1)[1] for name in names} == {"00000", "00001", "00002"}


def test_config_file_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "build.yaml"
    path.write_text(
        "refiner: {backend: openai, model: m, base_url: 'http://127.0.0.1:1/v1'}\ntest_fraction: 0.2\n"
    )
    config = load_build_config(path)
    assert config.refiner.backend == "openai" and config.teacher.backend == "template"
    assert config.test_fraction == 0.2
    path.write_text("refiner: {backend: nope}\n")
    with pytest.raises(ValueError, match="refiner.backend must be one of"):
        load_build_config(path)
    path.write_text("teachers: {}\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_build_config(path)
    assert BuildConfig().teacher.backend == "template"


@pytest.mark.parametrize(
    ("text", "printed", "expected", "removed"),
    [
        ('A red T-shirt for men with the word "NOVA" printed on it.', ["NOVA"], "A red T-shirt for men.", 1),
        (
            "A red T-shirt featuring the text STAY WILD, for casual wear.",
            [],
            "A red T-shirt, for casual wear.",
            1,
        ),
        ("A red T-shirt that reads 'ORBIT' across the chest.", [], "A red T-shirt.", 1),
        ("A red T-shirt for men, casual.", ["NOVA"], "A red T-shirt for men, casual.", 0),
        ("A RED T-shirt for MEN.", [], "A RED T-shirt for MEN.", 0),  # capitals that are metadata stay
    ],
)
def test_ocr_check(text: str, printed: list[str], expected: str, removed: int) -> None:
    metadata = {"gender": "Men", "article_type": "Tshirts", "base_colour": "Red", "usage": "Casual"}
    cleaned, spans = remove_printed_text(text, printed, metadata)
    assert (cleaned, len(spans)) == (expected, removed)


def test_a_built_dataset_is_itself_a_catalog(built: tuple[Path, Path]) -> None:
    from modeling_moda.data.catalog import read_catalog

    _, out = built
    items, rejects = read_catalog(str(out), split="validation")
    part = datasets.load_dataset(str(out), split="validation")
    assert rejects == [] and [i.id for i in items] == part["id"]
    assert items[0].article_type == part[0]["article_type"] and isinstance(items[0].image, bytes)


def test_agreement_check() -> None:
    from modeling_moda.core.schema import CatalogItem
    from modeling_moda.data.build import _contradiction

    item = CatalogItem(id="1", image="x.jpg", article_type="Backpacks", base_colour="Maroon", gender="Men")
    assert _contradiction("A maroon backpack for men.", item) is None
    assert "never names the kind of item" in _contradiction("This is a checked", item)
    assert "contradicts base colour" in _contradiction("A green backpack for men.", item)
    assert "contradicts 'Men'" in _contradiction("A maroon backpack for women.", item)
    assert "contradicts 'Backpacks'" in _contradiction("A maroon handbag for men.", item)
