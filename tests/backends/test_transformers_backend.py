"""TransformersChat on real local models: SmolLM2-135M-Instruct (causal LM), a tiny LLaVA built from configs
(image-text-to-text), and the raw GGUF file."""

import pytest
import torch
from PIL import Image

from modeling_moda.backends import BackendError, get_chat_backend, image_to_data_url
from modeling_moda.backends.transformers_backend import TransformersChat

pytestmark = pytest.mark.slow  # SmolLM2 in process

HELLO = [{"role": "user", "content": "Say hello."}]
COLOUR = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What colour is the sky?"}]


def _image_message(image: Image.Image, text: str = "Describe this product.") -> list[dict]:
    parts = [
        {"type": "image_url", "image_url": {"url": image_to_data_url(image)}},
        {"type": "text", "text": text},
    ]
    return [{"role": "user", "content": parts}]


@pytest.fixture(scope="module")
def smol(smollm2_dir):
    return TransformersChat(str(smollm2_dir), batch_size=4)


def test_causal_lm_chat_greedy_with_usage(smol):
    assert smol.kind == "causal-lm" and smol.name == "transformers"
    reply = smol.chat(HELLO, max_tokens=8, temperature=0)
    assert reply.text and reply.finish_reason in {"stop", "length"}
    assert reply.usage["prompt_tokens"] > 3 and 1 <= reply.usage["completion_tokens"] <= 8
    assert smol.chat(HELLO, max_tokens=8, temperature=0).text == reply.text  # greedy is deterministic


def test_batched_chat_many_equals_one_by_one_and_isolates_bad_items(smol):
    image_for_text_model = _image_message(Image.new("RGB", (8, 8)))
    replies = smol.chat_many([HELLO, image_for_text_model, COLOUR], max_tokens=8)
    assert isinstance(replies[1], BackendError) and "text-only model" in str(replies[1])
    assert replies[0].text == smol.chat(HELLO, max_tokens=8).text  # left padding keeps batch == single
    assert replies[2].text == smol.chat(COLOUR, max_tokens=8).text


def test_text_parts_are_flattened_and_stop_strings_work(smol):
    parts = [
        {"role": "user", "content": [{"type": "text", "text": "Count from 1 to 9, separated by commas."}]}
    ]
    reply = smol.chat(parts, max_tokens=30, stop=[","])
    assert reply.finish_reason == "stop" and reply.usage["completion_tokens"] < 30


def test_sampling_with_seed_is_reproducible(smol):
    a = smol.chat(HELLO, max_tokens=8, temperature=0.9, top_p=0.95, seed=3)
    b = smol.chat(HELLO, max_tokens=8, temperature=0.9, top_p=0.95, seed=3)
    assert a.text == b.text


def test_bad_requests_are_clear(smol, tmp_path):
    with pytest.raises(BackendError, match="text-only model"):
        smol.chat(_image_message(Image.new("RGB", (8, 8))))
    with pytest.raises(TypeError, match="unsupported generation options.*logprobs"):
        smol.chat(HELLO, logprobs=True)
    with pytest.raises(TypeError, match="unsupported generation options.*logprobs"):
        smol.chat_many([HELLO], logprobs=True)
    smol.chat(HELLO, max_tokens=2, response_format={"type": "json_object"})  # accepted, ignored locally
    with pytest.raises(BackendError, match="cannot load model config"):
        TransformersChat(str(tmp_path / "missing"))


@pytest.fixture(scope="module")
def tiny_llava_dir(smollm2_dir, tmp_path_factory):
    """A real, random-weight LLaVA: tiny CLIP tower + tiny Llama, SmolLM2's tokenizer + <image>."""
    from transformers import (
        AutoTokenizer,
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    out = tmp_path_factory.mktemp("tiny-llava")
    tok = AutoTokenizer.from_pretrained(smollm2_dir)
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    small = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    vision = CLIPVisionConfig(image_size=32, patch_size=8, **small)  # 16 patches + CLS = 17 image tokens
    text = LlamaConfig(vocab_size=len(tok), num_key_value_heads=2, pad_token_id=tok.pad_token_id, **small)
    text.eos_token_id = tok.eos_token_id
    config = LlavaConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=tok.convert_tokens_to_ids("<image>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="full",
    )
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(out)
    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
        "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}"
        "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        chat_template=template,
        patch_size=8,
        vision_feature_select_strategy="full",
        num_additional_image_tokens=1,
    ).save_pretrained(out)
    return out


def test_image_text_to_text_model_takes_data_url_images(tiny_llava_dir):
    vlm = get_chat_backend("transformers", model=str(tiny_llava_dir))
    assert vlm.kind == "image-text-to-text"
    red, blue = Image.new("RGB", (40, 50), (200, 30, 30)), Image.new("L", (64, 64), 90)
    with_image = vlm.chat(_image_message(red), max_tokens=4)
    hf_messages = [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe this product."}]}
    ]
    prompt = vlm.processor.apply_chat_template(hf_messages, add_generation_prompt=True, tokenize=False)
    # the one <image> placeholder became 17 image tokens: the image really went through the processor
    assert with_image.usage["prompt_tokens"] == len(vlm.tokenizer(prompt)["input_ids"]) + 16
    assert with_image.usage["completion_tokens"] == 4 and with_image.finish_reason == "length"
    batch = vlm.chat_many([_image_message(red), _image_message(blue), HELLO], max_tokens=4)
    assert len(batch) == 3 and all(not isinstance(r, Exception) for r in batch)
    assert batch[0].text == with_image.text


@pytest.mark.slow
def test_gguf_file_loads_directly():
    from modeling_moda.backends.smollm2 import gguf_path

    try:
        path = gguf_path()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    chat = TransformersChat(str(path.parent), gguf_file=path.name)
    assert chat.model.endswith(".gguf") and chat.kind == "causal-lm"
    assert chat.chat(HELLO, max_tokens=4).usage["completion_tokens"] >= 1
