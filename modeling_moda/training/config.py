"""The recipe config: one flat dataclass, loaded from YAML, that says everything a training run needs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_STRATEGIES = ("no", "steps", "epoch")


@dataclass
class RecipeConfig:
    """A training recipe. Every key can be set in the YAML file; unknown keys are an error."""

    # --- backbones: Hub ids, local folders, or "tiny" (both tiny: built from configs, fully offline) ---
    vision: str = "tiny"
    text: str = "tiny"
    revision: str | None = None  # Hub revision for both backbones (pins the feature-cache fingerprint too)
    init_from: str | None = None  # start from an existing MODA folder/Hub id instead of assembling backbones
    tiny: dict[str, Any] = field(default_factory=dict)  # size overrides for build_tiny_moda (tiny backbones)
    # --- projector ---
    projector_type: str = "mlp"  # "mlp" (Linear, act, Linear) or "linear"
    projector_hidden_ratio: float = 4.0  # x text hidden size: 768 * 4 = 3072 is the seed's
    projector_act: str = "gelu"
    num_image_tokens: int = 1
    vision_feature: str = "pooled"  # "pooled" (one embedding, the seed) or "patch"
    # --- freezing and LoRA ---
    freeze_vision: bool = True  # frozen: features are cached once; unfrozen: the encoder trains, no cache
    freeze_text: bool = False
    lora: bool = False  # LoRA adapters on the language model (peft); the projector stays fully trained
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    # --- dataset: local folder (save_to_disk or files) or Hub id ---
    dataset: str = ""
    dataset_revision: str | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    test_split: str = "test"
    id_column: str = "id"
    image_column: str = "image"
    text_column: str = "description"
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    prompt: str | None = None  # text after the image tokens; None = no prompt (the seed)
    feature_cache: bool = True  # use the feature cache when the encoder is frozen
    feature_cache_dir: str | None = None  # default: <dataset folder>/feature_cache, or beside the run
    encode_batch_size: int = 64
    # --- optimisation ---
    learning_rate: float = 1e-3
    weight_decay: float = 0.01  # torch AdamW's default, as in the seed
    lr_scheduler: str = "step_decay"  # "step_decay" or any transformers scheduler name ("cosine", ...)
    lr_decay_factor: float = 0.8  # step_decay: lr x factor ...
    lr_decay_every_epochs: float = 2.0  # ... every this many epochs
    warmup_ratio: float = 0.0
    batch_size: int = 32  # per device
    eval_batch_size: int | None = None
    gradient_accumulation_steps: int = 8
    num_epochs: float = 40.0
    max_steps: int = -1  # > 0 overrides num_epochs
    max_grad_norm: float = 1.0
    precision: str = "auto"  # auto: bf16 on GPUs that support it, else fp16 on CUDA, else fp32
    gradient_checkpointing: bool = False
    seed: int = 42
    dataloader_num_workers: int = 0
    # --- evaluation cadence and checkpoints ---
    eval_strategy: str = "epoch"
    eval_steps: int | None = None
    save_strategy: str = "epoch"
    save_steps: int | None = None
    save_total_limit: int | None = 2
    load_best_model_at_end: bool = True
    metric_for_best_model: str = "eval_loss"
    logging_steps: int = 10
    judge: str = "rules"  # judge for the in-training metrics (evaluation area)
    judge_every_steps: int = 0  # 0: judge at each evaluation; < 0: never
    judge_samples: int = 64  # validation items the judge scores each time
    max_new_tokens: int = 48
    # --- output ---
    output_dir: str = "runs/moda"
    run_name: str | None = None
    report_to: list[str] = field(default_factory=list)  # e.g. ["tensorboard"]; empty: none
    license: str = "apache-2.0"
    # --- Hub ---
    push_to_hub: bool = False
    hub_model_id: str | None = None
    hub_private: bool = False

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # YAML reads "1e-3" as a string: coerce numbers by annotation
            value = getattr(self, f.name)
            if isinstance(value, str) and f.type.split(" |")[0] in ("float", "int"):
                setattr(self, f.name, float(value) if f.type.startswith("float") else int(value))
        if self.precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {_PRECISIONS}, got {self.precision!r}")
        for key in ("eval_strategy", "save_strategy"):
            if getattr(self, key) not in _STRATEGIES:
                raise ValueError(f"{key} must be one of {_STRATEGIES}, got {getattr(self, key)!r}")
        if self.lora and self.freeze_text:
            raise ValueError("lora and freeze_text exclude each other: LoRA trains adapters on the LM")
        if self.num_image_tokens < 1:
            raise ValueError(f"num_image_tokens must be >= 1, got {self.num_image_tokens}")

    @property
    def is_tiny(self) -> bool:
        return self.init_from is None and self.vision == "tiny" and self.text == "tiny"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


def load_config(path: str | Path, **overrides: Any) -> RecipeConfig:
    """Read a recipe YAML; `overrides` (e.g. from the command line) win over the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a recipe is a mapping of keys to values, got {type(data).__name__}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(RecipeConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown recipe keys {unknown}; known keys: {sorted(known)}")
    try:
        return RecipeConfig(**data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from err


def parse_override(text: str) -> tuple[str, Any]:
    """`key=value` from the command line; the value is parsed as YAML (numbers, booleans, lists)."""
    if "=" not in text:
        raise ValueError(f"override {text!r} must look like key=value")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)
