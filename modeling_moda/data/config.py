"""The `moda dataset build` configuration: which backend runs each step, prompts, splits (a YAML file).

Example (every key optional; these are the defaults except the refiner):

    prompt_version: v1
    teacher: {backend: template}
    refiner:
      backend: openai                 # template | transformers | openai
      base_url: http://localhost:8000/v1
      model: Phi-3-mini-4k-instruct
      api_key_env: OPENAI_API_KEY     # the key is read from the environment only
      max_concurrency: 8
      generation: {max_tokens: 160, temperature: 0.0}
    catalog: {format: auto, split: train, columns: {}}
    validation_fraction: 0.1
    test_fraction: 0.1
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

BACKENDS = ("template", "transformers", "openai")
REPLY_FORMATS = ("json", "text")


@dataclass
class StepConfig:
    backend: str = "template"
    model: str | None = None  # Hub id or folder (transformers), served model name (openai)
    base_url: str | None = None  # openai: the endpoint; None = api.openai.com
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: int = 4
    timeout: float = 60.0
    max_retries: int = 4  # transport retries (429/5xx/timeouts/connection errors) inside the client
    max_consecutive_failures: int = 5  # this many failed calls in a row: endpoint down, the build stops
    gguf_file: str | None = None
    device: str = "cpu"
    dtype: str | None = None
    batch_size: int = 8  # transformers: conversations per generate call
    image_max_side: int = 768  # teacher: photos are shrunk to fit this box before they are sent
    attempts: int = 3  # tries to get a valid reply; each retry shows the model its invalid reply and why
    generation: dict[str, Any] = field(default_factory=lambda: {"max_tokens": 160, "temperature": 0.0})
    # json: the reply holds the JSON object the prompt asks for; text: the whole reply is the description, for
    # a captioning model that writes prose whatever it is asked (e.g. a MODA behind `moda serve`)
    reply_format: str = "json"

    def __post_init__(self) -> None:
        if self.reply_format not in REPLY_FORMATS:
            raise ValueError(f"reply_format must be one of {REPLY_FORMATS}, got {self.reply_format!r}")

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `backends.get_chat_backend(self.backend, ...)`."""
        if not self.model:
            raise ValueError(f"the {self.backend} backend needs `model`")
        if self.backend == "openai":
            return {
                "base_url": self.base_url,
                "model": self.model,
                "api_key_env": self.api_key_env,
                "max_concurrency": self.max_concurrency,
                "timeout": self.timeout,
                "max_retries": self.max_retries,
                "max_consecutive_failures": self.max_consecutive_failures,
            }
        return {
            "model": self.model,
            "gguf_file": self.gguf_file,
            "device": self.device,
            "dtype": self.dtype,
            "batch_size": self.batch_size,
        }


@dataclass
class CatalogConfig:
    format: str = "auto"  # auto | kaggle | fashion-images | datasets
    split: str = "train"  # datasets sources: which split is the catalog
    columns: dict[str, str] = field(default_factory=dict)  # datasets sources: internal field -> column


@dataclass
class BuildConfig:
    prompt_version: str = "v1"
    teacher: StepConfig = field(default_factory=StepConfig)
    refiner: StepConfig = field(default_factory=StepConfig)
    catalog: CatalogConfig = field(default_factory=CatalogConfig)
    validation_fraction: float = 0.1
    test_fraction: float = 0.1
    batch_size: int = 32  # items per round of teacher + refiner calls
    rows_per_file: int = 1000  # parquet rows per file
    license: str = "other"  # dataset card license (follow the source catalog's)
    pretty_name: str = "MODA fashion product descriptions"

    def __post_init__(self) -> None:
        for name, step in (("teacher", self.teacher), ("refiner", self.refiner)):
            if step.backend not in BACKENDS:
                raise ValueError(f"{name}.backend must be one of {BACKENDS}, got {step.backend!r}")
        if not 0 <= self.validation_fraction + self.test_fraction < 1:
            raise ValueError("validation_fraction + test_fraction must be in [0, 1)")


def _build(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")
    nested = {"teacher": StepConfig, "refiner": StepConfig, "catalog": CatalogConfig}
    kwargs = {}
    for key, value in values.items():
        sub = nested.get(key) if cls is BuildConfig else None
        kwargs[key] = _build(sub, value or {}, f"{where}.{key}") if sub else value
    return cls(**kwargs)


def load_build_config(path: str | Path | None = None, **overrides: Any) -> BuildConfig:
    """The config of a YAML file (or the defaults), with top-level `overrides` applied."""
    import yaml

    values: dict[str, Any] = {}
    if path is not None:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(values, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
    values.update({k: v for k, v in overrides.items() if v is not None})
    return _build(BuildConfig, values, str(path or "config"))
