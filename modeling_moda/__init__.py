"""MODA: small vision-language models that describe fashion product photos.

The remote-code files (`configuration_moda`, `modeling_moda`, `processing_moda`, `pipeline_moda`) are
self-contained and travel with every saved model; the sub-packages (`data`, `backends`, `evaluation`,
`training`, `inference`, `cli`) are the tooling around them.
"""

__version__ = "0.1.0"
