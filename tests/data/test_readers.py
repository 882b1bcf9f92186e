"""Catalog readers on small fixtures of each layout; every bad-catalog case gets a clear reject."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from modeling_moda.core.schema import CatalogItem
from modeling_moda.data.catalog import CatalogError, read_catalog

from .catalog_fixtures import KAGGLE_HEADER, kaggle_row, write_csv, write_jpeg


def _kaggle(
    root: Path, rows: list[list[str]], header: list[str] = KAGGLE_HEADER, images: bool = True
) -> Path:
    write_csv(root / "styles.csv", header, rows)
    if images:
        for row in rows:
            write_jpeg(root / "images" / f"{row[0]}.jpg")
    return root


def _reasons(rejects) -> dict[str, str]:
    return {r.id: r.reason for r in rejects}


def test_kaggle_layout_maps_to_internal_schema(tmp_path: Path) -> None:
    root = _kaggle(tmp_path, [kaggle_row("1"), kaggle_row("2", "Jeans", "Blue")])
    (root / "printed_text.jsonl").write_text('{"id": "2", "text": "NOVA"}\n')
    items, rejects = read_catalog(str(root))
    assert rejects == []
    first = items[0]
    assert isinstance(first, CatalogItem)
    assert (first.id, first.gender, first.master_category, first.sub_category) == (
        "1",
        "Men",
        "Apparel",
        "Topwear",
    )
    assert (first.article_type, first.base_colour, first.season, first.year) == (
        "Tshirts",
        "Red",
        "Summer",
        2012,
    )
    assert (first.usage, first.product_title) == ("Casual", "Acme Men Red Tshirts")
    assert first.image == str(root / "images" / "1.jpg")
    assert items[1].printed_text == ["NOVA"] and first.printed_text == []


def test_kaggle_title_with_unquoted_commas_is_kept_whole(tmp_path: Path) -> None:
    root = tmp_path
    write_jpeg(root / "images" / "7.jpg")
    (root / "styles.csv").write_text(
        ",".join(KAGGLE_HEADER) + "\n" + ",".join(kaggle_row("7")[:-1]) + ",Acme, Men, Red Tee\n"
    )
    items, rejects = read_catalog(str(root))
    assert rejects == [] and items[0].product_title == "Acme, Men, Red Tee"


def test_fashion_images_layout_finds_images_in_nested_folders(tmp_path: Path) -> None:
    header = [
        "ProductId",
        "Gender",
        "Category",
        "SubCategory",
        "ProductType",
        "Colour",
        "Usage",
        "ProductTitle",
        "Image",
    ]
    rows = [
        [
            "42419",
            "Girls",
            "Apparel",
            "Topwear",
            "Tops",
            "White",
            "Casual",
            "Gini Girls White Top",
            "42419.jpg",
        ],
        [
            "34009",
            "Men",
            "Footwear",
            "Shoes",
            "Casual Shoes",
            "Black",
            "Casual",
            "Puma Men Black Shoes",
            "34009.jpg",
        ],
        ["555", "Boys", "Apparel", "Topwear", "Tshirts", "Blue", "Casual", "Boys Blue Tee", "555.jpg"],
    ]
    write_csv(tmp_path / "fashion.csv", header, rows)
    write_jpeg(tmp_path / "Apparel" / "Girls" / "Images" / "images_with_product_ids" / "42419.jpg")
    write_jpeg(tmp_path / "Footwear" / "Men" / "Images" / "images_with_product_ids" / "34009.jpg")
    write_jpeg(tmp_path / "Apparel" / "Boys" / "Images" / "555.jpg")  # same name in two folders:
    write_jpeg(tmp_path / "Footwear" / "Boys" / "Images" / "555.jpg")  # resolved by category + gender
    items, rejects = read_catalog(str(tmp_path))
    assert rejects == []
    by_id = {item.id: item for item in items}
    assert by_id["34009"].article_type == "Casual Shoes" and by_id["34009"].base_colour == "Black"
    assert by_id["42419"].gender == "Girls" and by_id["42419"].season is None
    assert "Apparel/Boys" in by_id["555"].image


def test_datasets_source_with_column_mapping(tmp_path: Path) -> None:
    import datasets
    from PIL import Image

    table = {
        "sku": ["a1", "a2"],
        "photo": [Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")],
        "kind": ["Tshirts", "Jeans"],
        "colour": ["Red", "Blue"],
        "who": ["Men", "Women"],
    }
    ds = datasets.Dataset.from_dict(table, features=datasets.Features({
        "sku": datasets.Value("string"), "photo": datasets.Image(), "kind": datasets.Value("string"),
        "colour": datasets.Value("string"), "who": datasets.Value("string"),
    }))  # fmt: skip
    ds.save_to_disk(str(tmp_path / "ds"))
    columns = {
        "id": "sku",
        "image": "photo",
        "article_type": "kind",
        "base_colour": "colour",
        "gender": "who",
    }
    items, rejects = read_catalog(str(tmp_path / "ds"), columns=columns)
    assert rejects == [] and [i.id for i in items] == ["a1", "a2"]
    assert (
        isinstance(items[0].image, bytes) and items[1].article_type == "Jeans" and items[1].gender == "Women"
    )
    assert items[0].usage is None  # mapped column absent: field empty


def test_missing_required_column_is_a_clear_error(tmp_path: Path) -> None:
    write_csv(tmp_path / "styles.csv", ["gender", "articleType"], [["Men", "Tshirts"]])
    with pytest.raises(CatalogError, match=r"styles.csv: missing required column\(s\) \['id'\]"):
        read_catalog(str(tmp_path))


def test_missing_optional_column_warns_and_leaves_field_empty(tmp_path: Path, caplog) -> None:
    header = [h for h in KAGGLE_HEADER if h != "usage"]
    row = [v for h, v in zip(KAGGLE_HEADER, kaggle_row("1"), strict=True) if h != "usage"]
    root = _kaggle(tmp_path, [row], header=header)
    with caplog.at_level(logging.WARNING):
        items, rejects = read_catalog(str(root))
    assert rejects == [] and items[0].usage is None
    assert "no column 'usage'" in caplog.text


def test_bad_rows_are_rejected_with_reasons_and_the_rest_kept(tmp_path: Path, caplog) -> None:
    rows = [
        kaggle_row("good"),
        kaggle_row("noimage"),
        kaggle_row("corrupt"),
        kaggle_row("dup"),
        kaggle_row("dup", "Jeans"),
        ["empty", "", "", "", "", "", "", "", "", ""],
        ["noarticle", "Men", "Apparel", "Topwear", "", "Red", "", "", "", ""],
    ]
    root = _kaggle(tmp_path, rows)
    (root / "images" / "noimage.jpg").unlink()
    (root / "images" / "corrupt.jpg").write_bytes(b"this is not a jpeg")
    with (root / "styles.csv").open("a") as handle:
        handle.write("short,Men\n")  # too few fields
    with caplog.at_level(logging.WARNING):
        items, rejects = read_catalog(str(root))
    assert [item.id for item in items] == ["good"]
    reasons = _reasons(rejects)
    assert reasons["noimage"].startswith("image file not found") and "noimage.jpg" in reasons["noimage"]
    assert reasons["corrupt"].startswith("unreadable image")
    assert reasons["dup"].startswith("duplicate id")
    assert sum(r.id == "dup" for r in rejects) == 2
    assert reasons["empty"] == "empty metadata: every metadata field is empty"
    assert reasons["noarticle"] == "empty metadata: article_type missing"
    short = [r for r in rejects if r.reason.startswith("too few fields:")]
    assert len(short) == 1 and "styles.csv line" in short[0].reason
    assert all(r.stage == "catalog" and r.source for r in rejects)
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected ")]
    assert len(messages) == len(rejects)  # one message per problem


def test_missing_table_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="styles.csv"):
        read_catalog(str(tmp_path), format="kaggle")
