"""MODA: small vision-language models that describe fashion product photos.

The remote-code files (`configuration_moda`, `modeling_moda`, `processing_moda`, `pipeline_moda`) are
self-contained and travel with every saved model; the sub-packages are the tooling around them: `core`
(schema, lexicon, atomic I/O, image and dataset loading), the areas that import only the core, the backends
and the model files (`backends`, `data`, `encoder`, `training`, `evaluation`, `inference`, `serving`), and
the orchestration above them (`pipeline`, `cli`).
"""

__version__ = "0.1.0"
