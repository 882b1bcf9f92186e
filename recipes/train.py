"""Train a MODA from a recipe, on Hugging Face rails.

TRL's `TrlParser` fills the recipe's dataclasses (modeling_moda/training/config.py: model arguments,
ModaConfig's options, data arguments, and `TrainingArguments` plus MODA's extras) from the YAML file, and
`--key value` on the command line wins over it. The run then goes top to bottom in
modeling_moda/training/run.py: data -> model -> feature cache -> Trainer -> save the model and its card.

    python recipes/train.py recipes/configs/moda-280m.yaml --dataset <folder or Hub id>
    python recipes/train.py recipes/configs/tiny.yaml --num_train_epochs 2 --output_dir runs/x
    python recipes/train.py RECIPE --resume_from_checkpoint latest       (continue a killed run)
    accelerate launch --multi_gpu --num_processes 8 recipes/train.py RECIPE          (DDP on 8 GPUs)
    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 recipes/train.py RECIPE
                                                                            (DDP over gloo on the CPU)
    accelerate launch --config_file fsdp.yaml recipes/train.py RECIPE    (FSDP: `accelerate config`)

Same as `moda train RECIPE [--key value ...]`.
"""

import sys

from modeling_moda.pipeline.train import judge_callbacks
from modeling_moda.training.config import parse_recipe
from modeling_moda.training.run import train

if __name__ == "__main__":
    recipe = parse_recipe(sys.argv[1:])  # [RECIPE.yaml] [--key value ...]
    callbacks = judge_callbacks(recipe)  # the evaluation area's judge, scoring validation items as it trains
    result = train(recipe, callbacks=callbacks)
    print(f"trained {result.global_step} steps in {result.train_runtime_s:.0f} s; model: {result.model_dir}")
