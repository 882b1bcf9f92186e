"""Versioned judge prompts (judge_<version>.md), read by `llm_judge.load_prompt`."""
