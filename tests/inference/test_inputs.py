"""Input streaming: folders (recursive), globs, CSV/JSONL listings, bad rows; lazy with flat memory."""

from __future__ import annotations

import itertools
import json
import tracemalloc

import pytest

from modeling_moda.inference.inputs import InputItem, iter_inputs
from modeling_moda.inference.loading import iter_loaded_batches

from .inference_images import colour_image


def paths(items) -> list[str]:
    return [item.path for item in items]


def test_folder_is_recursive_sorted_and_images_only(image_folder):
    found = paths(iter_inputs([str(image_folder)]))
    rel = [p.removeprefix(str(image_folder) + "/") for p in found]
    assert rel == ["blue.png", "red.jpg", "sub/green.jpg", "sub/deeper/yellow.webp"]


def test_glob_patterns(image_folder):
    assert sorted(paths(iter_inputs([f"{image_folder}/**/*.jpg"]))) == sorted(
        [str(image_folder / "red.jpg"), str(image_folder / "sub" / "green.jpg")]
    )
    # a recursive pattern that matches folders too does not list their files twice
    everything = paths(iter_inputs([f"{image_folder}/**"]))
    assert len(everything) == len(set(everything))
    assert [i.error for i in iter_inputs([f"{image_folder}/*.gif"])] == ["glob pattern matched no files"]


def test_csv_listing_relative_paths_and_bad_rows(image_folder, tmp_path):
    listing = image_folder / "listing.csv"
    listing.write_text("id,Image,colour\n1,red.jpg,red\n2,,none\n3,/abs/elsewhere.jpg,x\n")
    items = list(iter_inputs([str(listing)]))
    assert items[0] == InputItem(str(image_folder / "red.jpg"))
    assert items[1].path == f"{listing}:3" and "no image path" in items[1].error
    assert items[2] == InputItem("/abs/elsewhere.jpg")
    bad = tmp_path / "nocolumn.csv"
    bad.write_text("id,colour\n1,red\n")
    with pytest.raises(ValueError, match="no image path column"):
        list(iter_inputs([str(bad)]))


def test_jsonl_listing(image_folder):
    listing = image_folder / "listing.jsonl"
    lines = [json.dumps({"path": "blue.png"}), "{broken", "", json.dumps("sub/green.jpg"), json.dumps([1])]
    listing.write_text("\n".join(lines) + "\n")
    items = list(iter_inputs([str(listing)]))
    assert items[0] == InputItem(str(image_folder / "blue.png"))
    assert items[1].path == f"{listing}:2" and items[1].error.startswith("invalid JSON")
    assert items[2] == InputItem(str(image_folder / "sub/green.jpg"))
    assert items[3].error == "expected a JSON object or string"


def test_listing_streams_with_flat_memory(tmp_path):
    listing = tmp_path / "big.jsonl"
    with open(listing, "w") as f:
        for i in range(100_000):
            f.write(json.dumps({"image": f"images/{i:06d}.jpg", "id": i}) + "\n")
    stream = iter_inputs([str(listing)])
    assert next(stream).path == str(tmp_path / "images/000000.jpg")  # the first item comes before the rest
    tracemalloc.start()
    count = sum(1 for _ in stream)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 99_999
    assert peak < 2 * 2**20, f"streaming 100k rows peaked at {peak / 2**20:.1f} MB"


def test_loaded_batches_keep_at_most_two_batches_ahead(tmp_path):
    colour_image("red").save(tmp_path / "red.png")
    pulled = 0

    def counting():
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield InputItem(str(tmp_path / "red.png"))

    batches = iter_loaded_batches(counting(), lambda p: colour_image("red"), batch_size=4)
    first = list(itertools.islice(batches, 2))
    assert [len(b.images) for b in first] == [4, 4]
    assert pulled <= 3 * 4  # two yielded batches + the one loading in the background


def test_dataset_rows_are_named_and_read_only_when_fetched(image_folder, tmp_path):
    import datasets

    from modeling_moda.inference.inputs import is_dataset_folder

    rows = datasets.Dataset.from_dict({"image": [str(image_folder / "red.jpg"), None], "id": [7, 8]})
    rows = rows.cast_column("image", datasets.Image())
    saved = tmp_path / "saved"
    rows.save_to_disk(str(saved))  # one Dataset, no splits: --split does not matter
    assert is_dataset_folder(str(saved)) and not is_dataset_folder(str(image_folder))
    items = list(iter_inputs([str(saved)], split="anything"))
    assert [i.path for i in items] == [f"{saved}[anything]#0", f"{saved}[anything]#1"]
    assert items[0].fetch()[:2] == b"\xff\xd8"  # the stored JPEG bytes, not a decoded image
    with pytest.raises(ValueError, match=r"#1: no image in this row"):
        items[1].fetch()
    with pytest.raises(ValueError, match="no image column 'picture'"):
        list(iter_inputs([str(saved)], image_column="picture"))
