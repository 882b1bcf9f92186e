"""The `evaluate` module folder: `evaluate.load(<this folder>)` loads `moda_metrics.py` (offline)."""
