"""JSON extraction, repair and schema validation on the kinds of replies LLMs really produce."""

import json

import pytest

from modeling_moda.backends.json_repair import InvalidReply, parse_json_reply, repair_json

SCHEMA = {
    "type": "object",
    "properties": {
        "description": {"type": "string", "minLength": 1},
        "colors": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["description"],
}

# A real SmolLM2-135M-Instruct reply (greedy, max_tokens=40): fenced and cut off mid-list.
SMOLLM2_TRUNCATED = (
    '```json\n{\n    "description": "Red Cotton T-Shirt",\n    "colors": [\n        {\n'
    '            "description": "Red",\n            "color": "RED"\n        },\n       '
)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"description": "red shirt"}', {"description": "red shirt"}),
        ('Sure! Here it is: {"description": "red shirt"} Hope this helps.', {"description": "red shirt"}),
        (
            '```json\n{"description": "red shirt", "colors": ["red"]}\n```',
            {"description": "red shirt", "colors": ["red"]},
        ),
        ('```\n{"description": "a"}\n```\nand more text', {"description": "a"}),
        (
            '{"description": "red shirt", "colors": ["red", "white",],}',
            {"description": "red shirt", "colors": ["red", "white"]},
        ),
        (
            "{'description': 'a men's red shirt', 'colors': ['red']}",
            {"description": "a men's red shirt", "colors": ["red"]},
        ),
        ('{description: "red shirt", colors: ["red"]}', {"description": "red shirt", "colors": ["red"]}),
        (
            '{"description": "red shirt", "sale": True, "stock": None}',
            {"description": "red shirt", "sale": True, "stock": None},
        ),
        ('{"description": "line one\nline two"}', {"description": "line one\nline two"}),
        ('{"description": "say \\"hi\\""}', {"description": 'say "hi"'}),
        ('{"description": "red shirt", "colors": ["red"', {"description": "red shirt", "colors": ["red"]}),
        ('{"description": "a red shirt with', {"description": "a red shirt with"}),
        ('{"description": "red", "colo', {"description": "red"}),
        ('{"description": "red", "colors":', {"description": "red"}),
        ('{"description": "red", // a comment\n "colors": []}', {"description": "red", "colors": []}),
        ('{"description": "ünïcode ✓"}', {"description": "ünïcode ✓"}),
        (
            '{\n "description": "red shirt"\n "colors": ["red" "white"]\n}',
            {"description": "red shirt", "colors": ["red", "white"]},
        ),
        (
            '{"description": "x", "n": 2 "colors": [], "o": {"a": 1} "p": true "q": null}',
            {"description": "x", "n": 2, "colors": [], "o": {"a": 1}, "p": True, "q": None},
        ),
    ],
)
def test_repairs(reply, expected):
    assert parse_json_reply(reply, SCHEMA) == expected


def test_first_object_that_fits_the_schema_wins():
    reply = 'Example: {"foo": 1}. Answer: {"description": "blue jeans"}'
    assert parse_json_reply(reply, SCHEMA) == {"description": "blue jeans"}
    assert parse_json_reply(reply) == {"foo": 1}  # without a schema: the first object


def test_real_truncated_smollm2_reply_is_repaired_then_judged_by_the_schema():
    with pytest.raises(json.JSONDecodeError):
        json.loads(SMOLLM2_TRUNCATED)
    loose = {"type": "object", "required": ["description"]}
    obj = parse_json_reply(SMOLLM2_TRUNCATED, loose)
    assert obj == {"description": "Red Cotton T-Shirt", "colors": [{"description": "Red", "color": "RED"}]}
    with pytest.raises(InvalidReply, match=r"schema: at colors/0: .* is not of type 'string'"):
        parse_json_reply(SMOLLM2_TRUNCATED, SCHEMA)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty reply"),
        ("   \n", "empty reply"),
        ("I cannot describe this image.", "no JSON object"),
        ('{"colors": ["red"]}', "schema: at <root>: 'description' is a required property"),
        ('{"description": ""}', "schema: at description: .* should be non-empty"),
        ('{"description": 42}', "schema: at description: 42 is not of type 'string'"),
        ("[1, 2, 3]", "no JSON object"),
        ("{ ??? }", "unparseable JSON even after repair"),
        (None, "reply is NoneType, not text"),
    ],
)
def test_rejects_with_reason(reply, reason):
    with pytest.raises(InvalidReply, match=reason) as info:
        parse_json_reply(reply, SCHEMA)
    assert info.value.reason
    assert info.value.text == reply or reply is None


def test_invalid_schema_is_a_programming_error_not_a_bad_reply():
    from jsonschema.exceptions import SchemaError

    with pytest.raises(SchemaError):
        parse_json_reply('{"a": 1}', {"type": "no-such-type"})


def test_repair_json_output_is_strict_json():
    fixed = repair_json("{'a': [1, 2,], b: 'x', 'c': {'d': True")
    assert json.loads(fixed) == {"a": [1, 2], "b": "x", "c": {"d": True}}
