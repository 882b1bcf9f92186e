"""Recipe configs: YAML loading, overrides, number coercion, clear errors; the shipped recipes load."""

from pathlib import Path

import pytest

from modeling_moda.training.config import RecipeConfig, load_config, parse_override

CONFIGS = Path(__file__).resolve().parents[2] / "recipes" / "configs"


def test_seed_recipe_reproduces_the_seed():
    config = load_config(CONFIGS / "moda-280m.yaml")
    assert (config.vision, config.text) == ("patrickjohncyh/fashion-clip", "facebook/opt-125m")
    assert config.freeze_vision and config.feature_cache
    assert (config.projector_type, config.projector_hidden_ratio, config.projector_act) == (
        "mlp",
        4.0,
        "gelu",
    )
    assert config.num_image_tokens == 1 and config.vision_feature == "pooled"
    assert config.learning_rate == 1e-3 and config.lr_scheduler == "step_decay"
    assert (config.lr_decay_factor, config.lr_decay_every_epochs) == (0.8, 2)
    assert (config.batch_size, config.gradient_accumulation_steps, config.num_epochs) == (32, 8, 40)
    assert config.eval_strategy == config.save_strategy == "epoch" and config.load_best_model_at_end


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_recipe_loads(path):
    assert isinstance(load_config(path), RecipeConfig)


def test_overrides_win_and_numbers_are_coerced(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("learning_rate: 1e-3\nbatch_size: 4\ndataset: a\n")  # PyYAML reads 1e-3 as a string
    config = load_config(path, **dict([parse_override("batch_size=8"), parse_override("dataset=b")]))
    assert config.learning_rate == pytest.approx(1e-3) and config.batch_size == 8 and config.dataset == "b"


def test_unknown_keys_and_bad_values_name_the_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("learnin_rate: 1\n")
    with pytest.raises(ValueError, match=r"r\.yaml.*unknown recipe keys \['learnin_rate'\]"):
        load_config(path)
    path.write_text("precision: fp8\n")
    with pytest.raises(ValueError, match=r"r\.yaml.*precision"):
        load_config(path)
    with pytest.raises(ValueError, match="key=value"):
        parse_override("novalue")
