"""Judge MODA descriptions on the seed's five metrics (0-10) and Overall.

    from modeling_moda.evaluation import get_judge, aggregate
    judge = get_judge("rules")                     # or "openai" / "transformers"
    scores = judge.score(predictions, references)  # references: catalog metadata dicts
    metrics = aggregate(scores)                    # mean + bootstrap 95% CI per metric

`evaluate.load(modeling_moda.evaluation.EVALUATE_MODULE_DIR)` gives the same as an `evaluate` metric.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import Any

from ..core.lexicon import extract_attributes
from .aggregate import aggregate, group_means, mean_ci
from .metrics import ALL_METRICS, BINARY_METRICS, DISPLAY_NAMES, METRICS, RATIO_METRICS, SampleScore
from .rules_judge import RulesJudge

__all__ = [
    "ALL_METRICS",
    "BINARY_METRICS",
    "DISPLAY_NAMES",
    "EVALUATE_MODULE_DIR",
    "JUDGES",
    "METRICS",
    "RATIO_METRICS",
    "RulesJudge",
    "SampleScore",
    "aggregate",
    "extract_attributes",
    "get_judge",
    "group_means",
    "mean_ci",
]

# a folder inside the installed package (evaluate.load takes a path)
EVALUATE_MODULE_DIR = str(resources.files(__name__) / "moda_metrics")
JUDGES = ("rules", "openai", "transformers")
_LLM_JUDGE_OPTIONS = (
    "cache_path",
    "prompt_version",
    "use_images",
    "max_invalid_retries",
    "max_tokens",
    "price_per_mtok",
    "progress",
    "json_mode",
)
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def get_judge(name: str, **cfg: Any):
    """A judge by name; each has `.name` and `.score(predictions, references) -> list[SampleScore]`.

    - "rules": no options.
    - "openai": `base_url` (default: $OPENAI_BASE_URL, else OpenAI), `model` (default: $MODA_JUDGE_MODEL, else
      gpt-4o-mini on OpenAI, else the one model the server lists), `api_key_env`, `max_concurrency`,
      `timeout`, `max_retries`, plus the LLM judge options.
    - "transformers": `model` (a folder or Hub id), `gguf_file`, `device`, `dtype`, plus the judge options.
    LLM judge options: `cache_path`, `prompt_version`, `use_images`, `max_invalid_retries`, `max_tokens`,
    `price_per_mtok`, `progress`, `json_mode` (see `llm_judge.LLMJudge`; on by default for OpenAI itself).
    """
    if name == "rules":
        if cfg:
            raise ValueError(f"the rules judge takes no options, got {sorted(cfg)}")
        return RulesJudge()
    if name not in JUDGES:
        raise ValueError(f"unknown judge {name!r}: choose one of {', '.join(JUDGES)}")
    from modeling_moda.backends import get_chat_backend

    from .llm_judge import LLMJudge

    judge_cfg = {k: cfg.pop(k) for k in _LLM_JUDGE_OPTIONS if k in cfg}
    backend_cfg = {k: v for k, v in cfg.items() if v is not None}
    if name == "openai":
        base_url = backend_cfg.setdefault("base_url", os.environ.get("OPENAI_BASE_URL"))
        # OpenAI itself: gpt-4o-mini; another server: the model it serves (discovered when None)
        backend_cfg.setdefault(
            "model", os.environ.get("MODA_JUDGE_MODEL") or (None if base_url else DEFAULT_OPENAI_MODEL)
        )
        judge_cfg.setdefault("json_mode", base_url is None)  # OpenAI's JSON mode; other servers may lack it
    elif "model" not in backend_cfg:
        raise ValueError("the transformers judge needs model= (a local folder or a Hub id)")
    return LLMJudge(get_chat_backend(name, **backend_cfg), **judge_cfg)
