"""Recipes: YAML + command line parsed into the four dataclasses (TrlParser), clear errors, shipped ones."""

import dataclasses
from pathlib import Path

import pytest
from transformers import TrainingArguments

from modeling_moda.configuration_moda import ModaConfig
from modeling_moda.training.config import ModaOptions, ModaTrainingArguments, parse_recipe

CONFIGS = Path(__file__).resolve().parents[2] / "recipes" / "configs"


def test_seed_recipe_reproduces_the_seed():
    recipe = parse_recipe([str(CONFIGS / "moda-280m.yaml")])
    model, options, data, args = recipe.groups
    assert (model.vision, model.text) == ("patrickjohncyh/fashion-clip", "facebook/opt-125m")
    assert options.freeze_vision and data.feature_cache
    assert (options.projector_type, options.projector_hidden_ratio, options.projector_act) == (
        "mlp",
        4.0,
        "gelu",
    )
    assert options.num_image_tokens == 1 and options.vision_feature == "pooled"
    assert args.learning_rate == 1e-3 and args.lr_scheduler_type == "constant"
    assert (args.lr_decay_factor, args.lr_decay_every_epochs) == (0.8, 2)
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps, args.num_train_epochs) == (
        32,
        8,
        40,
    )
    assert args.eval_strategy == args.save_strategy == "epoch" and args.load_best_model_at_end


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_recipe_parses(path):
    assert isinstance(parse_recipe([str(path)]).training, ModaTrainingArguments)


def test_yaml_then_command_line_fill_the_dataclasses(tmp_path):
    path = tmp_path / "r.yaml"
    # PyYAML reads 1e-3 as a string: the parser converts it by the field's type
    path.write_text("learning_rate: 1e-3\nper_device_train_batch_size: 4\ndataset: a\nwarmup_steps: 0.1\n")
    recipe = parse_recipe([str(path), "--per_device_train_batch_size", "8", "--num_image_tokens", "3"])
    args = recipe.training
    assert isinstance(args, TrainingArguments)  # handed to Trainer as is: nothing copied by hand
    assert args.learning_rate == pytest.approx(1e-3) and args.per_device_train_batch_size == 8
    assert args.get_warmup_steps(100) == 10  # TrainingArguments reads a float in [0, 1) as a ratio
    assert recipe.data.dataset == "a" and recipe.options.num_image_tokens == 3
    assert args.remove_unused_columns is False and args.include_num_input_tokens_seen == "non_padding"
    assert parse_recipe(["--hub_token", "hf_x"]).to_dict() == {}  # recipe.yaml never carries a token


def test_model_options_are_modaconfig_fields():
    derived = {"vision_config", "text_config", "image_token_id", "tie_word_embeddings"}
    own = {f.name: f.default for f in dataclasses.fields(ModaConfig) if f.name in ModaConfig.__annotations__}
    options = {f.name: f.default for f in dataclasses.fields(ModaOptions)}
    assert options == {name: default for name, default in own.items() if name not in derived}
    assert ModaConfig(**dataclasses.asdict(ModaOptions())).num_image_tokens == ModaOptions().num_image_tokens


def test_unknown_keys_and_bad_values_are_errors_that_name_them(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("learnin_rate: 1\n")
    with pytest.raises(ValueError, match=r"r\.yaml: unknown recipe keys \['learnin_rate'\]"):
        parse_recipe([str(path)])
    with pytest.raises(ValueError, match="--batch_size"):
        parse_recipe(["--batch_size", "4"])
    path.write_text("precision: fp8\n")
    with pytest.raises(ValueError, match=r"r\.yaml: precision must be one of"):
        parse_recipe([str(path)])
    path.write_text("lr_scheduler_type: cosine\nlr_decay_every_epochs: 2\n")
    with pytest.raises(ValueError, match="lr_scheduler_type to constant"):
        parse_recipe([str(path)])
