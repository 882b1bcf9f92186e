"""The training-time tracker: judge a validation subset, log metrics against tokens, draw the chart."""

import datasets
from transformers import TrainerControl, TrainerState, TrainingArguments

from modeling_moda.core.io import read_jsonl
from modeling_moda.evaluation.tracker import LOG_NAME, PLOT_NAME, JudgeTracker
from modeling_moda.inference.generate import generate_descriptions


def test_tracker_logs_points_and_feeds_eval_metrics(tiny_model_dir, eval_dataset_dir, tmp_path):
    from modeling_moda.modeling_moda import ModaForConditionalGeneration
    from modeling_moda.processing_moda import ModaProcessor

    model = ModaForConditionalGeneration.from_pretrained(tiny_model_dir)
    processor = ModaProcessor.from_pretrained(tiny_model_dir)
    split = datasets.load_from_disk(str(eval_dataset_dir))["validation"]
    tracker = JudgeTracker(
        processor, split, tmp_path, n_samples=3, max_new_tokens=6, describe=generate_descriptions
    )
    args = TrainingArguments(output_dir=str(tmp_path / "t"), report_to="none")
    model.train()
    for step, tokens in ((10, 250_000), (20, 500_000)):
        state = TrainerState(global_step=step, num_input_tokens_seen=tokens)
        metrics = {"eval_loss": 1.0}
        tracker.on_evaluate(args, state, TrainerControl(), model=model, metrics=metrics)
        assert "eval_judge_overall" in metrics
    assert model.training  # restored after generation
    history = read_jsonl(tmp_path / LOG_NAME)
    assert [(h["step"], h["tokens_seen"], h["n"]) for h in history] == [(10, 250_000, 3), (20, 500_000, 3)]
    assert (tmp_path / PLOT_NAME).stat().st_size > 1000


def test_every_k_steps(tiny_model_dir, eval_dataset_dir, tmp_path):
    from modeling_moda.modeling_moda import ModaForConditionalGeneration
    from modeling_moda.processing_moda import ModaProcessor

    model = ModaForConditionalGeneration.from_pretrained(tiny_model_dir)
    processor = ModaProcessor.from_pretrained(tiny_model_dir)
    split = datasets.load_from_disk(str(eval_dataset_dir))["validation"]
    tracker = JudgeTracker(
        processor,
        split,
        tmp_path,
        every_steps=2,
        n_samples=2,
        max_new_tokens=4,
        describe=generate_descriptions,
    )
    args = TrainingArguments(output_dir=str(tmp_path / "t"), report_to="none")
    for step in range(1, 5):
        tracker.on_step_end(
            args,
            TrainerState(global_step=step, num_input_tokens_seen=step * 1000),
            TrainerControl(),
            model=model,
        )
    assert [h["step"] for h in read_jsonl(tmp_path / LOG_NAME)] == [2, 4]
