"""Suite-wide settings: nothing in the tests reaches the network or the Hub.

Shared fixtures live here; each area keeps its own fixtures in its own test modules.
Edit this file with small, additive changes: several areas share it.
"""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
