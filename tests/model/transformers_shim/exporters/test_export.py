"""Stand-in for transformers' `tests/exporters/test_export.py` (not in the sdist): `ModelTesterMixin`'s base.

The torch.export tests it holds do not run; MODA's export (ONNX) is tested in tests/inference/test_onnx.py.
"""


class ExportTesterMixin:
    pass
