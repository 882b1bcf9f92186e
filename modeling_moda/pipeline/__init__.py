"""Orchestration: flows that run several areas in order (the quickstart; a model described, then judged).

The layer above the areas, beside `cli/`: it may import any area; no area imports it.
"""
