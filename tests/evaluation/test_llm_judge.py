"""The LLM judge: schema validation and repair, retries, disk cache, unscored-on-failure, cost tally.

Deterministic behaviour is checked against a scripted OpenAI-compatible HTTP server on 127.0.0.1 (a real
server and the real client; only the replies are scripted); the live `transformers serve` SmolLM2 server
checks the whole path with a real (weak) model.
"""

import json

import pytest
from PIL import Image

from modeling_moda.backends import EndpointDown
from modeling_moda.backends.smollm2 import free_port
from modeling_moda.cli import main
from modeling_moda.evaluation import get_judge
from modeling_moda.evaluation.llm_judge import load_prompt, scores_from_reply

from ..scripted_openai import ScriptedOpenAIServer

REF = {"gender": "Men", "article_type": "Tshirts", "base_colour": "Navy Blue", "usage": "Casual"}
VALID = (
    '{"color_accuracy": 10, "style_recognition": 0, "category_accuracy": 10, "gender_accuracy": 10, '
    '"factual_consistency": 10, "reasons": {"style_recognition": "usage not mentioned"}}'
)
# near-JSON a model might write: prose, a code fence, single quotes, an unquoted key, a trailing comma,
# and a binary metric given as 7 (snapped to 10)
MALFORMED = (
    "Here is my evaluation:\n```json\n{'color_accuracy': 10, style_recognition: 7, 'category_accuracy': 10, "
    "'gender_accuracy': 10, 'factual_consistency': 7.5,}\n```"
)


@pytest.fixture
def scripted():
    servers = []

    def make(script):
        servers.append(ScriptedOpenAIServer(script, default=VALID, usage=(1000, 100)))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def _judge(url, cache, **kw):
    return get_judge(
        "openai",
        base_url=url,
        model="gpt-4o-mini",
        cache_path=cache,
        max_concurrency=1,
        **kw,
    )


@pytest.mark.slow  # starts an HTTP server
def test_repair_retry_cache_and_cost(scripted, tmp_path):
    # sample 0: HTTP 500 then a malformed reply (repaired); sample 1: schema-invalid, then valid on re-ask
    server = scripted([(500, ""), (200, MALFORMED), (200, '{"color_accuracy": 15}')])
    preds = ["A navy tee for men", "A blue t-shirt"]
    judge = _judge(server.url, tmp_path / "cache.jsonl")
    first = judge.score(preds, [REF, REF])
    assert all(s.scored for s in first)
    assert (
        first[0].scores["style_recognition"] == 10
        and "snapped from 7" in first[0].reasons["style_recognition"]
    )
    assert first[0].scores["factual_consistency"] == 7.5
    assert judge.totals["invalid_replies"] == 1 and judge.totals["requests"] == 3
    assert judge.tally()["cost_usd"] == pytest.approx(3 * (1000 * 0.15 + 100 * 0.60) / 1e6)
    sent = server.requests[-1]["messages"]
    assert "color_accuracy" in sent[0]["content"] and "Navy Blue" in sent[1]["content"]

    n_requests = len(server.requests)
    again = _judge(server.url, tmp_path / "cache.jsonl")
    second = again.score(preds, [REF, REF])
    assert len(server.requests) == n_requests  # the rerun cost nothing
    assert again.totals["cache_hits"] == 2 and again.cost_usd == 0
    assert [s.scores for s in second] == [s.scores for s in first] and all(s.cached for s in second)


@pytest.mark.slow  # starts an HTTP server
def test_invalid_replies_exhaust_retries_and_leave_sample_unscored(scripted, tmp_path):
    server = scripted([(200, "I think it is good.")] * 3)
    (s,) = _judge(server.url, tmp_path / "c.jsonl", max_invalid_retries=2).score(["A tee"], [REF])
    assert not s.scored and s.error.startswith("no valid judge reply after 3 attempt(s)")
    assert len(server.requests) == 3


@pytest.mark.slow  # starts an HTTP server
def test_retries_spent_leave_the_sample_unscored_with_the_reason(scripted, tmp_path):
    server = scripted([(503, "")] * 2)
    (s,) = _judge(server.url, tmp_path / "c.jsonl", max_retries=1).score(["A navy tee"], [REF])
    assert not s.scored and "judge call failed" in s.error and "gave up after 2 attempts" in s.error


@pytest.mark.slow  # the SDK's default 4 retries of the refused connection take ~8 s
def test_dead_endpoint_stops_moda_evaluate_with_exit_1_and_no_report(tmp_path, capsys):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"id": "1", "reference": REF, "prediction": "A navy tee"}) + "\n")
    url = f"http://127.0.0.1:{free_port()}/v1"
    out = tmp_path / "eval"
    args = ["evaluate", "--predictions", str(samples), "--judge", "openai", "--judge-base-url", url]
    assert main([*args, "--judge-model", "m", "--out", str(out)]) == 1
    assert f"{url} (model m): unreachable" in capsys.readouterr().err
    assert not (out / "metrics.json").exists() and not (out / "report.md").exists()


@pytest.mark.slow  # starts an HTTP server
def test_refused_key_stops_the_judge_and_the_rerun_repeats_no_finished_call(scripted, tmp_path):
    server = scripted([(200, VALID), (401, "")])
    preds = ["A navy tee", "A blue t-shirt"]
    with pytest.raises(EndpointDown, match=rf"{server.url} \(model gpt-4o-mini\): HTTP 401"):
        _judge(server.url, tmp_path / "c.jsonl").score(preds, [REF, REF])
    scores = _judge(server.url, tmp_path / "c.jsonl").score(preds, [REF, REF])  # the key works again
    assert [s.cached for s in scores] == [True, False] and all(s.scored for s in scores)
    assert len(server.requests) == 3 and "A blue t-shirt" in server.requests[2]["messages"][1]["content"]


def test_reply_rules_and_prompt_file():
    scores, reasons = scores_from_reply(json.loads(VALID) | {"gender_accuracy": 3}, REF | {"usage": "NA"})
    assert scores["gender_accuracy"] == 0 and scores["style_recognition"] is None
    system, template = load_prompt("judge_v1")
    assert "factual_consistency" in system and "$description" in template.template
    with pytest.raises(FileNotFoundError, match="judge_v1"):
        load_prompt("judge_v0")


@pytest.mark.slow  # starts an HTTP server
def test_image_goes_to_vision_judges_as_a_data_url(scripted, tmp_path):
    server = scripted([])
    judge = _judge(server.url, tmp_path / "c.jsonl", use_images=True)
    (s,) = judge.score(["A navy tee"], [REF], images=[Image.new("RGB", (8, 8), (20, 30, 90))])
    assert s.scored
    content = server.requests[0]["messages"][1]["content"]
    assert content[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")


@pytest.mark.slow
def test_live_smollm2_server(openai_server, smollm2_dir, tmp_path):
    """A real weak model: each sample is scored in range or unscored with a reason; the rerun is cached."""
    cfg = dict(
        base_url=openai_server,
        model=str(smollm2_dir),
        cache_path=tmp_path / "live.jsonl",
        max_invalid_retries=1,
        max_tokens=64,
        timeout=600,
        max_retries=1,
    )
    judge = get_judge("openai", **cfg)
    scores = judge.score(["A navy blue t-shirt for men, casual."], [REF])
    for s in scores:
        if s.scored:
            assert all(v is None or 0 <= v <= 10 for v in s.scores.values())
            assert s.scores["gender_accuracy"] in (0, 10)
        else:
            assert s.error.startswith(("no valid judge reply", "judge call failed"))
    assert judge.totals["requests"] >= 1 and judge.totals["prompt_tokens"] > 100
    rerun = get_judge("openai", **cfg)
    rescored = rerun.score(["A navy blue t-shirt for men, casual."], [REF])
    assert rerun.totals["cache_hits"] == sum(s.scored for s in scores)
    assert [s.scores for s in rescored if s.cached] == [s.scores for s in scores if s.scored]


@pytest.mark.slow
def test_transformers_judge_same_prompt_and_schema(smollm2_dir, tmp_path):
    """The local-model judge: in-process SmolLM2 gets the OpenAI judge's prompt, and its greedy reply (JSON
    cut off after 48 tokens) is repaired and validated by the same schema into in-range scores."""
    judge = get_judge(
        "transformers",
        model=str(smollm2_dir),
        cache_path=tmp_path / "t.jsonl",
        max_invalid_retries=0,
        max_tokens=48,
    )
    assert judge.name == "transformers"
    prediction = "A navy blue t-shirt for men, casual."
    remote = get_judge("openai", base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")  # sends nothing
    assert judge.messages(prediction, REF) == remote.messages(prediction, REF)
    (s,) = judge.score([prediction], [REF])
    assert s.scored, s.error
    assert set(s.scores) >= {"color_accuracy", "category_accuracy", "gender_accuracy", "factual_consistency"}
    assert all(v is None or 0 <= v <= 10 for v in s.scores.values())
    assert s.scores["gender_accuracy"] in (0, 10) and s.scores["category_accuracy"] in (0, 10)
    assert judge.totals["requests"] == 1 and judge.totals["invalid_replies"] == 0


@pytest.mark.slow  # starts an HTTP server
def test_json_mode_is_requested_when_asked(scripted, tmp_path):
    server = scripted([])
    _judge(server.url, tmp_path / "c.jsonl", json_mode=True).score(["A navy tee"], [REF])
    assert server.requests[0]["response_format"] == {"type": "json_object"}
    _judge(server.url, tmp_path / "d.jsonl").score(["A navy tee"], [REF])
    assert "response_format" not in server.requests[1]  # off by default for servers other than OpenAI
