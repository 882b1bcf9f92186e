"""Tests of the core layer: atomic I/O, the dataset loader, the image checks."""
