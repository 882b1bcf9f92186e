"""Stand-in for transformers' `tests/generation/test_utils.py` (not in the sdist).

`ModelTesterMixin.test_generation_tester_mixin_inheritance` asks that a tester of a generating model inherits
`GenerationTesterMixin`. This empty class satisfies the import and that check; transformers' generate tests
themselves do not run. MODA's generation is covered by our own tests (tests/model, tests/inference).
"""


class GenerationTesterMixin:
    pass
