"""The recipe: four dataclasses that `TrlParser` fills from a YAML file and `--key value` command-line pairs.

- `ModelArguments`: which backbones (or which MODA) to start from, what trains, LoRA.
- `ModaOptions`: generated from `ModaConfig`'s own fields, so a new model option needs no edit here.
- `DataArguments`: the dataset, its columns, the feature cache.
- `ModaTrainingArguments`: `transformers.TrainingArguments` plus MODA's extras (step decay, judge, precision).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import torch
import yaml
from transformers import TrainingArguments
from transformers.trainer_utils import HubStrategy
from trl import TrlParser

from modeling_moda.configuration_moda import ModaConfig
from modeling_moda.core.io import write_text

# ModaConfig fields the builder derives from the backbones and the tokenizer: not recipe options
_DERIVED = {"vision_config", "text_config", "image_token_id", "tie_word_embeddings"}
_PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def _config_options() -> list[tuple[str, Any, Any]]:
    """(name, type, field) for each option ModaConfig declares itself, help text from its docstring."""
    own = ModaConfig.__annotations__
    # resolve the string annotations against configuration_moda's namespace (its bases need torch)
    holder = type("Own", (), {"__annotations__": own, "__module__": ModaConfig.__module__})
    hints = get_type_hints(holder)
    helps = dict(
        re.findall(r"^\s{8}(\w+): (.+?)(?=\n\s{8}\w+:|\n\s*$)", ModaConfig.__doc__ or "", re.M | re.S)
    )
    defaults = {f.name: f.default for f in dataclasses.fields(ModaConfig)}
    return [
        (
            name,
            hints[name],
            field(default=defaults[name], metadata={"help": " ".join(helps.get(name, "").split())}),
        )
        for name in own
        if name not in _DERIVED
    ]


ModaOptions = dataclasses.make_dataclass("ModaOptions", _config_options())
ModaOptions.__module__ = __name__
ModaOptions.__doc__ = (
    "The ModaConfig options a recipe (or `moda init`) sets: projector, image tokens, freezing."
)


@dataclass
class ModelArguments:
    """Where the model comes from and which parts train."""

    vision: str = field(
        default="tiny",
        metadata={"help": "vision backbone or `moda encoder train` folder: Hub id, folder, 'tiny'"},
    )
    text: str = field(default="tiny", metadata={"help": "causal LM: Hub id, folder, or 'tiny' (from config)"})
    revision: str | None = field(default=None, metadata={"help": "Hub revision for both backbones"})
    init_from: str | None = field(default=None, metadata={"help": "start from a saved MODA folder or Hub id"})
    tiny: dict | str | None = field(
        default=None, metadata={"help": "size overrides for build_tiny_moda (JSON on the command line)"}
    )
    max_new_tokens: int | None = field(
        default=None, metadata={"help": "saved in generation_config: the default description length"}
    )
    freeze_text: bool = False
    lora: bool = field(default=False, metadata={"help": "LoRA adapters on the LM (peft), merged at save"})
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])

    def __post_init__(self) -> None:
        if isinstance(self.tiny, str):
            self.tiny = json.loads(self.tiny)
        if self.lora and self.freeze_text:
            raise ValueError("lora and freeze_text exclude each other: LoRA trains adapters on the LM")
        if self.vision == "tiny" and self.text != "tiny" and self.init_from is None:
            raise ValueError(f"vision: tiny is built for text: tiny, got text: {self.text!r}")


@dataclass
class DataArguments:
    """The dataset (a `moda dataset build` / `save_to_disk` folder or a Hub id) and its columns."""

    dataset: str = field(default="", metadata={"help": "dataset folder or Hub id"})
    dataset_revision: str | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    test_split: str = "test"
    id_column: str = "id"
    image_column: str = "image"
    text_column: str = "description"
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    prompt: str | None = field(
        default=None, metadata={"help": "text after the image tokens (None: the seed)"}
    )
    feature_cache: bool = field(default=True, metadata={"help": "cache a frozen encoder's features once"})
    feature_cache_dir: str | None = field(
        default=None, metadata={"help": "default: <dataset folder>/feature_cache, else beside the run"}
    )
    encode_batch_size: int = 64


@dataclass
class ModaTrainingArguments(TrainingArguments):
    """TrainingArguments with the defaults MODA's collator and logs need, plus the seed's step decay and
    the in-training judge."""

    precision: str | None = field(
        default=None,
        metadata={"help": "sets bf16/fp16; auto: bf16 on GPUs that have it, fp16 on other GPUs, fp32 on CPU"},
    )
    lr_decay_every_epochs: float | None = field(
        default=None, metadata={"help": "step decay (the seed): lr x lr_decay_factor every N epochs"}
    )
    lr_decay_factor: float = 0.8
    judge: str = field(default="rules", metadata={"help": "judge of the in-training metrics"})
    judge_every_steps: int = field(default=0, metadata={"help": "0: at each evaluation; < 0: never"})
    judge_samples: int = field(default=64, metadata={"help": "validation items the judge scores"})
    license: str = "apache-2.0"
    # TrainingArguments fields with MODA's defaults
    remove_unused_columns: bool = False  # the collator reads the description/id columns
    include_num_input_tokens_seen: str = "non_padding"  # all | non_padding | no: x axis of the judge chart
    prediction_loss_only: bool = True
    logging_first_step: bool = True
    report_to: None | str | list[str] = "none"
    hub_strategy: HubStrategy | str = "end"  # the merged model folder is pushed once, at the end

    def __post_init__(self) -> None:
        if self.precision is not None:
            precision = self.precision
            if precision not in _PRECISIONS:
                raise ValueError(f"precision must be one of {_PRECISIONS}, got {precision!r}")
            if precision == "auto":
                bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
                precision = "bf16" if bf16 else "fp16" if torch.cuda.is_available() else "fp32"
            self.bf16, self.fp16 = precision == "bf16", precision == "fp16"
        if self.eval_strategy == "no":
            self.load_best_model_at_end = False  # nothing to pick the best from
        if not torch.cuda.is_available():
            self.dataloader_pin_memory = False  # pinning needs an accelerator (it only warns on the CPU)
        if self.lr_decay_every_epochs is not None and self.lr_scheduler_type not in (
            "constant",
            "constant_with_warmup",
        ):
            raise ValueError(
                "lr_decay_every_epochs replaces the scheduler: set lr_scheduler_type to constant, "
                f"got {self.lr_scheduler_type!r}"
            )
        super().__post_init__()


RECIPE_ARGUMENTS = (ModelArguments, ModaOptions, DataArguments, ModaTrainingArguments)


@dataclass
class Recipe:
    """One parsed recipe: the four argument groups."""

    model: ModelArguments
    options: Any  # ModaOptions
    data: DataArguments
    training: ModaTrainingArguments

    @property
    def groups(self) -> tuple[Any, ...]:
        return (self.model, self.options, self.data, self.training)

    def settings(self) -> dict[str, Any]:
        """Every key of the four groups, flat; TrainingArguments' own `to_dict` gives plain values for its
        enums and config objects and masks its `*_token` fields."""
        settings = {f.name: getattr(g, f.name) for g in self.groups[:3] for f in dataclasses.fields(g)}
        return {**settings, **self.training.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        """The keys set away from their defaults, flat, no tokens: a YAML that `parse_recipe` reads back."""
        defaults = Recipe(*(type(group)() for group in self.groups)).settings()
        return {
            key: value
            for key, value in self.settings().items()
            if value != defaults[key] and not key.endswith("_token")
        }

    def to_yaml(self, path: str | Path) -> None:
        write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))


def parse_recipe(argv: Sequence[str] = (), **keys: Any) -> Recipe:
    """`[RECIPE.yaml] [--key value ...]`: the YAML sets the keys, the command line wins over it.

    `keys` are recipe keys given in code, under the YAML file. Raises ValueError naming the file and the
    keys for unknown or invalid keys.
    """
    args = list(argv)
    path = args.pop(0) if args and not args[0].startswith("-") else None
    parser = TrlParser(RECIPE_ARGUMENTS, allow_abbrev=False)  # a key is spelt in full
    unknown = parser.set_defaults_with_config(**keys)
    if unknown:
        raise ValueError(f"unknown recipe keys {[k[2:] for k in unknown[::2]]}")
    where = f"{path}: " if path else ""
    try:
        *groups, from_file, from_cli = parser.parse_args_and_config(
            ["--config", path, *args] if path else args,
            return_remaining_strings=True,
            separate_remaining_strings=True,
        )
    except yaml.YAMLError as err:
        raise ValueError(f"{where}not valid YAML: {err}") from err
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}{err}") from err
    if from_file:
        raise ValueError(f"{where}unknown recipe keys {[k[2:] for k in from_file[::2]]}")
    if from_cli:
        raise ValueError(f"unknown command-line arguments {from_cli} (recipe keys go as --key value)")
    return Recipe(*groups)
