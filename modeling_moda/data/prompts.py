"""The versioned prompts of the two LLM steps and the JSON schemas their replies must satisfy.

Prompt I (`prompts/<version>/teacher.txt`): image -> {"description", "attributes"}. Prompt II
(`prompts/<version>/refiner.txt`, a `string.Template` with $metadata, $description and $description_json, the
draft as a JSON string): draft + metadata -> {"description"}. The version is stored in every row, in every
cache key and in the dataset card.

Versions: `v1` (the default, for capable teachers such as Phi-3); `small-v1` (same Prompt I; a short Prompt II
that hands the draft over as JSON to edit, for very small local models such as SmolLM2-135M, which cannot
follow v1 and at best return the draft unchanged — the OCR check then does the removal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from string import Template

PROMPTS_DIR = resources.files(__package__) / "prompts"
DEFAULT_VERSION = "v1"
# The metadata the refiner sees (product titles carry brand names; season/year are not visible).
REFINER_FIELDS = ("gender", "master_category", "sub_category", "article_type", "base_colour", "usage")

TEACHER_SCHEMA = {
    "type": "object",
    "required": ["description"],
    "properties": {
        "description": {"type": "string", "minLength": 3},
        "attributes": {"type": "object"},
    },
}
REFINER_SCHEMA = {
    "type": "object",
    "required": ["description"],
    "properties": {"description": {"type": "string", "minLength": 3}},
}


@dataclass(frozen=True)
class Prompts:
    version: str
    teacher: str
    refiner: str

    def refiner_text(self, metadata: dict, description: str) -> str:
        lines = [
            f"- {name.replace('_', ' ')}: {metadata[name]}" for name in REFINER_FIELDS if metadata.get(name)
        ]
        return Template(self.refiner).substitute(
            metadata="\n".join(lines), description=description, description_json=json.dumps(description)
        )


def load_prompts(version: str = DEFAULT_VERSION) -> Prompts:
    """The prompt pair of one version; a clear error lists the versions there are."""
    folder = PROMPTS_DIR / version
    if not folder.is_dir():
        known = sorted(p.name for p in PROMPTS_DIR.iterdir() if p.is_dir())
        raise ValueError(f"unknown prompt version {version!r}; versions: {known}")
    return Prompts(
        version=version,
        teacher=(folder / "teacher.txt").read_text(encoding="utf-8").strip(),
        refiner=(folder / "refiner.txt").read_text(encoding="utf-8").strip(),
    )
