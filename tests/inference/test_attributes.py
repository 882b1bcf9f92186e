"""Attributes with confidence (`describe_detailed`) on the tiny trained MODA, and the reading rules on known
inputs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from modeling_moda.builder import train_tokenizer
from modeling_moda.core.attributes import ATTRIBUTES, attribute_entries, held_for_review, lowest_confidence
from modeling_moda.inference.attributes import (
    Described,
    attribute_token_sets,
    described_from_tokens,
    read_attributes,
    step_scores,
    token_spans,
)
from modeling_moda.inference.describer import TorchDescriber

from .inference_images import COLOURS, DESCRIPTIONS, colour_image

NAMES = list(COLOURS)


@pytest.fixture(scope="module")
def describer(trained_tiny):
    model, processor = trained_tiny
    return TorchDescriber(model, processor, model_id="tiny")


def confidences(attributes: dict) -> list[float]:
    return [entry["confidence"] for _, entry in attribute_entries(attributes)]


def test_describe_detailed_reads_the_attributes_of_the_text_describe_writes(describer):
    images = [colour_image(n) for n in NAMES]
    detailed = describer.describe_detailed(images)
    assert [d.text for d in detailed] == describer.describe(images) == [DESCRIPTIONS[n] for n in NAMES]
    red, blue, green, yellow = (d.attributes for d in detailed)
    assert all(list(d.attributes) == list(ATTRIBUTES) for d in detailed)
    assert [c["value"] for c in red["colour"]] == ["Red"]
    assert red["article_type"]["value"] == "Tshirts" and red["article_type"]["types"] == ["Tshirts"]
    assert red["gender"]["value"] == "Men" and red["usage"]["value"] == "Casual"
    assert blue["article_type"]["value"] == "Jeans" and blue["usage"] is None  # the text states no usage
    assert green["gender"]["value"] == "Unisex" and green["usage"]["value"] == "Sports"
    assert yellow["gender"]["value"] == "Girls"
    for d in detailed:
        assert all(0.0 <= c <= 1.0 for c in confidences(d.attributes))
        assert d.weakest() == lowest_confidence(d.attributes)
        assert d.weakest()[2] == min(confidences(d.attributes))


def test_streaming_describe_detailed_sends_the_same_text(describer):
    deltas: dict[int, str] = {}
    detailed = describer.describe_detailed(
        [colour_image("green"), colour_image("red")],
        on_text=lambda row, delta: deltas.__setitem__(row, deltas.get(row, "") + delta),
    )
    assert [deltas[0], deltas[1]] == [d.text for d in detailed]


def test_an_ambiguous_image_gets_a_lower_colour_confidence_than_clear_ones(describer):
    """Red blended into blue in steps of 10%: where the colour the model names turns from Red to Blue, the
    image is ambiguous between two colours it learned, and the colour's confidence falls there."""
    steps = [i / 10 for i in range(11)]
    blends = [Image.blend(colour_image("red"), colour_image("blue"), t) for t in steps]
    described = describer.describe_detailed(blends)
    colours = [d.attributes["colour"][0] for d in described]
    named = [c["value"] for c in colours]
    flip = named.index("Blue")
    assert named == ["Red"] * flip + ["Blue"] * (len(steps) - flip)  # one turn, from the red end
    at_flip = min(colours[flip - 1]["confidence"], colours[flip]["confidence"])
    clear = min(colours[0]["confidence"], colours[-1]["confidence"])
    assert at_flip < clear - 0.1
    weakest = min((described[flip - 1], described[flip]), key=lambda d: d.weakest()[2]).weakest()
    assert weakest[0] == "colour" and weakest[2] == at_flip


@pytest.fixture(scope="module")
def tokenizer():
    texts = ["Navy blue shirt for men and women.", "Red sneakers, casual. Pair with blue jeans."]
    return train_tokenizer(texts)


def test_token_spans_cover_the_stripped_text_token_by_token(tokenizer):
    ids = tokenizer(" Navy blue shirt for men and women.", add_special_tokens=False)["input_ids"]
    text, spans = token_spans(tokenizer, ids)
    assert text == "Navy blue shirt for men and women."
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))  # contiguous, in order
    pieces = [tokenizer.decode([i]) for i in ids]
    assert [text[a:b] for a, b in spans][1:] == pieces[1:]  # the first lost its leading space to strip()


def test_read_attributes_scores_each_claim_by_the_tokens_that_state_it():
    text = "Navy blue shirt for men and women. Pair it with red sneakers, casual."
    words = [(m, text.index(m)) for m in ("Navy", " blue", " shirt", " for", " men", " and", " women")]
    spans = [(start, start + len(word)) for word, start in words]
    probabilities = [0.5, 0.9, 0.8, 1.0, 0.6, 1.0, 0.7]
    rest = (spans[-1][1], len(text))  # the styling advice, one token
    attributes = read_attributes(text, [*spans, rest], [*probabilities, 0.99])
    assert attributes["colour"] == [{"value": "Navy Blue", "confidence": 0.45}]  # 0.5 x 0.9; red is advice
    assert attributes["article_type"] == {"value": "Shirts", "types": ["Shirts"], "confidence": 0.8}
    assert attributes["gender"] == {"value": "Unisex", "confidence": round(0.6 * 0.7, 4)}  # both words
    assert attributes["usage"] == {"value": "Casual", "confidence": 0.99}  # advice still names the usage
    # within each attribute's first tokens: "Navy" was 0.5 of all, but 0.8 of the colour words
    within = {name: [1.0] * 8 for name in ATTRIBUTES}
    within["colour"][0] = 0.8
    scored = read_attributes(text, [*spans, rest], [*probabilities, 0.99], within)
    assert scored["colour"][0]["confidence"] == pytest.approx(0.8 * 0.9)
    assert scored["gender"]["confidence"] == 0.7  # " men" 1.0 within genders, then " women" 0.7


def test_step_scores_renormalise_the_chosen_token_within_each_attributes_tokens():
    logits = np.log(np.array([[0.5, 0.3, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]))
    chosen, within = step_scores(logits, np.array([1, 3]), {"colour": [1, 2], "gender": [0]})
    assert chosen == pytest.approx([0.3, 0.25])
    assert within["colour"] == pytest.approx([0.3 / 0.4, 0.25 / 0.75])  # token 3 is no colour word: + itself
    assert within["gender"] == pytest.approx([0.3 / 0.8, 0.5])


def test_attribute_token_sets_hold_the_first_token_of_each_phrase(tokenizer):
    sets = attribute_token_sets(tokenizer)
    assert set(sets) == set(ATTRIBUTES)
    for word, name in (
        (" blue", "colour"),
        ("Navy", "colour"),
        (" shirt", "article_type"),
        (" men", "gender"),
    ):
        assert tokenizer(word, add_special_tokens=False)["input_ids"][0] in sets[name]


def test_a_generic_article_word_names_its_types_and_nothing_stated_is_none():
    text = "Sneakers"
    attributes = read_attributes(text, [(0, len(text))], [0.3])
    assert attributes["article_type"]["value"] == "sneakers"
    assert set(attributes["article_type"]["types"]) >= {"Casual Shoes", "Sports Shoes"}
    assert attributes["colour"] == [] and attributes["gender"] is None and attributes["usage"] is None
    empty = Described(text="", attributes=read_attributes("", [], []))
    assert empty.weakest() is None and held_for_review(empty.attributes, 0.5) == "no attribute stated"


def test_described_from_tokens_stops_at_eos_and_skips_special_tokens(tokenizer):
    ids = tokenizer("Red sneakers, casual.", add_special_tokens=False)["input_ids"]
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    probabilities = [0.4] + [0.9] * (len(ids) - 1)
    row, row_probabilities = [*ids, eos, pad, ids[0]], [*probabilities, 0.1, 0.2, 0.3]
    described = described_from_tokens(tokenizer, row, row_probabilities, [eos])
    assert described.text == "Red sneakers, casual."
    assert described.attributes["colour"][0]["confidence"] == pytest.approx(0.4, abs=1e-4)
    assert held_for_review(described.attributes, 0.5).startswith("colour 'Red' at confidence 0.40")
    assert held_for_review(described.attributes, 0.3) is None
    with pytest.raises(ValueError, match="3 token ids but 2 probabilities"):
        described_from_tokens(tokenizer, ids[:3], [0.5, 0.5])


def test_the_pipeline_returns_token_scores_that_read_as_describe_detailed(trained_tiny_dir, describer):
    from transformers import pipeline

    pipe = pipeline("image-to-text", model=str(trained_tiny_dir), trust_remote_code=True)
    tokenizer = pipe.processor.tokenizer
    token_sets = attribute_token_sets(tokenizer)
    images = [colour_image("yellow"), Image.blend(colour_image("red"), colour_image("blue"), 0.5)]
    batched = pipe(images, batch_size=2, token_sets=token_sets)  # the pipeline splits a batch's outputs
    for image, expected, (in_batch,) in zip(
        images, describer.describe_detailed(images), batched, strict=True
    ):
        (plain,) = pipe(image)
        (out,) = pipe(image, return_token_scores=True, token_sets=token_sets)
        assert out["generated_text"] == plain["generated_text"] == expected.text
        assert (
            len(out["token_ids"]) == len(out["token_scores"])
            and tokenizer.eos_token_id not in out["token_ids"]
        )
        assert in_batch["token_ids"] == out["token_ids"]
        for row in (out, in_batch):
            read = described_from_tokens(
                tokenizer, row["token_ids"], row["token_scores"], within=row["token_set_scores"]
            )
            assert read.text == expected.text
            assert [(n, e["value"]) for n, e in attribute_entries(read.attributes)] == [
                (n, e["value"]) for n, e in attribute_entries(expected.attributes)
            ]
            assert [e["confidence"] for _, e in attribute_entries(read.attributes)] == pytest.approx(
                [e["confidence"] for _, e in attribute_entries(expected.attributes)], abs=1e-4
            )
