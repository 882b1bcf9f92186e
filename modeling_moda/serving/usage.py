"""Token counts for the `usage` field, from the model folder's tokenizer.

The describer returns text, so the completion is counted by tokenizing that text again (greedy text
re-tokenizes to the same length in practice) plus the EOS token when generation stopped before the limit; the
prompt is the tokenizer's start tokens, the image tokens and the prompt text, as the processor lays it out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class TokenCounter:
    tokenizer: Any
    image_tokens: int = 1

    def prompt_tokens(self, prompt: str | None) -> int:
        start = len(self.tokenizer("", add_special_tokens=True)["input_ids"])
        text = len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"]) if prompt else 0
        return start + self.image_tokens + text

    def completion(self, text: str, max_new_tokens: int) -> tuple[int, str]:
        """(completion tokens, finish_reason): "length" when the reply used the whole token budget."""
        n = len(self.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0
        if n >= max_new_tokens:
            return max_new_tokens, "length"
        return n + 1, "stop"  # + EOS


def load_token_counter(model_dir: str | Path) -> TokenCounter:
    """The counter for a saved MODA folder or an ONNX export (both carry the tokenizer and config.json)."""
    # the tokenizer class itself: AutoTokenizer would read config.json and ask to trust the remote code
    from transformers import PreTrainedTokenizerFast

    config_path = Path(model_dir) / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    return TokenCounter(
        PreTrainedTokenizerFast.from_pretrained(model_dir), int(config.get("num_image_tokens", 1))
    )
