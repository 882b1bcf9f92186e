"""Per-row text streaming from batched greedy generation: new token ids in, text deltas out.

A batched `generate` produces one new token per row per step. `TextDeltas` keeps each row's ids, decodes
them again after every token and hands on only the text that is new, so the deltas of a row concatenate to
exactly the description `describe` returns (decoded with special tokens skipped, then stripped). Text that
may still change is held back: trailing whitespace (the final text is stripped, and tokenizers may clean
up a space before punctuation) and a trailing U+FFFD (a multi-byte character split across tokens).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from transformers.generation.streamers import BaseStreamer

OnText = Callable[[int, str], None]


def eos_token_ids(generation_config: Any, tokenizer: Any) -> list[int]:
    """The ids that end generation: the generation config's, else the tokenizer's EOS."""
    eos = getattr(generation_config, "eos_token_id", None)
    if eos is None:
        eos = tokenizer.eos_token_id
    return [eos] if isinstance(eos, int) else list(eos)


class TextDeltas:
    """Decode `push`ed tokens ([B] ids per step) incrementally and call `on_text(row, delta)`."""

    def __init__(self, tokenizer: Any, batch_size: int, eos_token_ids: Iterable[int], on_text: OnText):
        self.tokenizer = tokenizer
        self.eos = set(eos_token_ids)
        self.on_text = on_text
        self.ids: list[list[int]] = [[] for _ in range(batch_size)]
        self.sent = [""] * batch_size
        self.done = [False] * batch_size

    def push(self, tokens: Iterable[int]) -> None:
        for row, token in enumerate(tokens):
            if self.done[row]:
                continue  # after EOS a batched loop keeps writing padding into finished rows
            if int(token) in self.eos:
                self.done[row] = True
                continue
            self.ids[row].append(int(token))
            self._emit(row, final=False)

    def finish(self) -> None:
        for row in range(len(self.ids)):
            self._emit(row, final=True)

    def _emit(self, row: int, final: bool) -> None:
        text = self.tokenizer.decode(self.ids[row], skip_special_tokens=True).strip()
        if not final and text.endswith("\ufffd"):
            return
        sent = self.sent[row]
        if len(text) > len(sent) and text.startswith(sent):
            self.sent[row] = text
            self.on_text(row, text[len(sent) :])


class BatchTextStreamer(BaseStreamer):
    """A `generate(streamer=...)` streamer for any batch size: the first `put` is the prompt [B, T]
    (skipped), each later one the [B] next tokens of one step."""

    def __init__(self, deltas: TextDeltas):
        self.deltas = deltas
        self.prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        self.deltas.push(value.reshape(-1).tolist())

    def end(self) -> None:
        self.deltas.finish()
