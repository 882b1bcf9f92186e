"""Train a MODA from a recipe config; transformers' Trainer runs the loop, accelerate the processes.

    python recipes/train.py recipes/configs/moda-280m.yaml dataset=<folder or Hub id>
    accelerate launch --num_processes 2 --cpu recipes/train.py recipes/configs/tiny.yaml   (DDP, gloo)
    accelerate launch --multi_gpu --num_processes 8 recipes/train.py ...       (DDP on 8 GPUs)
    accelerate launch --config_file fsdp.yaml recipes/train.py ...              (FSDP: `accelerate config`)

Same as `moda train CONFIG [key=value ...] [--resume [CHECKPOINT]]`.
"""

import argparse
import sys

from modeling_moda.cli import train as train_cli

if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    train_cli.add_arguments(parser)
    sys.exit(train_cli.run(parser.parse_args()))
