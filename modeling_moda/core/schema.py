"""The internal catalog schema every reader maps to, and the columns of the built dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

# Metadata fields of a catalog item (besides `id` and `image`), in the order the dataset stores them.
METADATA_FIELDS: tuple[str, ...] = (
    "gender",
    "master_category",
    "sub_category",
    "article_type",
    "base_colour",
    "season",
    "year",
    "usage",
    "product_title",
)
CATALOG_FIELDS: tuple[str, ...] = ("id", "image", *METADATA_FIELDS)
# The attributes a description states and the encoder is scored on -> their metadata column.
ATTRIBUTE_COLUMNS: dict[str, str] = {
    "colour": "base_colour",
    "article_type": "article_type",
    "gender": "gender",
    "usage": "usage",
}
# An item without these cannot be described; it is rejected with "empty metadata".
REQUIRED_FIELDS: tuple[str, ...] = ("article_type",)
# Columns the builder adds to every row.
GENERATED_FIELDS: tuple[str, ...] = (
    "raw_description",
    "description",
    "attributes",
    "teacher",
    "refiner",
    "prompt_version",
)
SPLITS: tuple[str, ...] = ("train", "validation", "test")


@dataclass
class CatalogItem:
    """One product: an image (a file path or encoded bytes) and its metadata, all optional but `id`.

    `printed_text` lists words known to be printed on the product (the synthetic catalog's sidecar); they are
    never metadata, and the OCR check makes sure they do not survive into the final description.
    """

    id: str
    image: str | bytes
    gender: str | None = None
    master_category: str | None = None
    sub_category: str | None = None
    article_type: str | None = None
    base_colour: str | None = None
    season: str | None = None
    year: int | None = None
    usage: str | None = None
    product_title: str | None = None
    printed_text: list[str] = field(default_factory=list)
    source: str = ""  # where the item came from, for messages: "styles.csv row 12"

    def metadata(self) -> dict[str, str | int | None]:
        """The metadata dict in the internal schema (the `reference` judges and prompts receive)."""
        return {name: getattr(self, name) for name in METADATA_FIELDS}


@dataclass(frozen=True)
class Reject:
    """An item the pipeline could not use, and why; written to `rejects.jsonl`, never silently dropped."""

    id: str
    stage: str  # "catalog", "teacher", "refiner" or "check"
    reason: str
    source: str = ""


def clean_value(value: object) -> str | None:
    """A metadata cell as a stripped string, or None when empty / NaN / a placeholder."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in {"", "nan", "none", "null", "na", "n/a"}:
        return None
    return text


def clean_year(value: object) -> int | None:
    """A year cell ("2012", "2012.0", 2012) as an int, None when empty or not a number."""
    text = clean_value(value)
    if text is None:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def dataset_features():  # -> datasets.Features
    """The `datasets.Features` of a built dataset: the image as `datasets.Image`, everything else scalar."""
    from datasets import Features, Image, Value

    columns = {"id": Value("string"), "image": Image()}
    for name in METADATA_FIELDS:
        columns[name] = Value("int32") if name == "year" else Value("string")
    for name in GENERATED_FIELDS:
        columns[name] = Value("string")
    return Features(columns)
