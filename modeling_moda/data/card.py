"""The dataset card (README.md of the output folder), rendered from `dataset_card/template.md`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..core.io import write_text
from ..core.schema import dataset_features
from .config import BuildConfig
from .prompts import Prompts
from .stats import length_summary

# the top-level dataset_card/, linked into the package as data/dataset_card so that it ships in the wheel
TEMPLATE = resources.files(__package__) / "dataset_card" / "template.md"
TOP = 12


def size_category(n: int) -> str:
    for limit, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < limit:
            return label
    return "n>1M"


def _dtype(feature: object) -> str:
    return "image" if type(feature).__name__ == "Image" else feature.dtype


def render_card(stats: dict, config: BuildConfig, prompts: Prompts, split_bytes: dict[str, int]) -> str:
    import jinja2

    template = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined).from_string(
        TEMPLATE.read_text(encoding="utf-8")
    )
    counts = stats["counts"]
    tables = [
        (title, sorted(counts[name].items(), key=lambda kv: (-kv[1], kv[0]))[:TOP])
        for title, name in (
            ("Master categories", "master_category"),
            ("Article types (top 12)", "article_type"),
            ("Base colours (top 12)", "base_colour"),
            ("Genders", "gender"),
            ("Usages", "usage"),
        )
    ]
    total_rows = sum(stats["rows"].values())
    splits = {split: n for split, n in stats["rows"].items() if n}  # load_dataset refuses empty splits
    train = 1 - config.validation_fraction - config.test_fraction
    return template.render(
        license=config.license,
        pretty_name=config.pretty_name,
        size_category=size_category(total_rows),
        features=[(name, _dtype(feature)) for name, feature in dataset_features().items()],
        stats=stats,
        splits=splits,
        prompts=prompts,
        attempts=max(config.teacher.attempts, config.refiner.attempts),
        split_shares=f"{train:.0%} / {config.validation_fraction:.0%} / {config.test_fraction:.0%}",
        total_rows=total_rows,
        total_rejects=sum(stats["rejects"].values()),
        lengths=length_summary(stats["description_words"]),
        tables=tables,
        split_bytes=split_bytes,
    )


def write_card(out: Path, stats: dict, config: BuildConfig, prompts: Prompts) -> Path:
    split_bytes = {
        split: sum(p.stat().st_size for p in (out / "data").glob(f"{split}-*")) for split in stats["rows"]
    }
    return write_text(out / "README.md", render_card(stats, config, prompts, split_bytes))
