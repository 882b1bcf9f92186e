"""Stand-in for transformers' `tests/utils/test_configuration_utils.py` (not in the sdist).

`ConfigTester.check_config_arguments_init` reads `config_common_kwargs` only for configs without sub-configs;
`ModaConfig` has two, so the check returns before reading it and an empty mapping is all it needs.
"""

config_common_kwargs: dict = {}
