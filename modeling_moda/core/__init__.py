"""The core every area imports, and which imports no area.

- `schema`: the catalog item, the dataset's columns and splits.
- `lexicon` (+ `lexicon_data`): the attribute vocabulary: colours, article types, genders, usages, and how
  text names them.
- `io`: atomic file writes, JSONL append/read that tolerates a torn last line.
- `images`: the one image loader (the processor's `load_image`) and image checks.
- `datasets`: the one dataset loader (local folder, Hub id, revision).

Layers: the remote-code files (configuration/modeling/processing/pipeline) -> core -> the areas (backends,
data, encoder, training, evaluation, inference, serving), which never import each other except the backends
(the chat endpoints behind teachers and judges) -> cli and `pipeline` (orchestration). tests/test_layers.py
checks it.
"""
