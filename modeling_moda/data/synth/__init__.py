"""`moda catalog synth`: a synthetic product catalog in the Kaggle layout, drawn with PIL."""

from .catalog import synth_catalog

__all__ = ["synth_catalog"]
