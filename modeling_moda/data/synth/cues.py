"""The visible cues of a synthetic item: what a person could point at to name its gender and usage.

Every attribute the teacher states has a cue drawn on the photo (pattern and printed words are drawn by the
renderer itself):
- gender: proportions and a trim colour. Women's items are cut slimmer with rose piping, men's boxier with
  slate-blue piping; "Unisex" items keep neutral proportions and a thin neutral outline (no gender cue).
- usage: Sports = contrast side stripes and a mesh panel; Formal = a glossy sheen; Party = sequins;
  Ethnic = gold embroidered borders; Smart Casual = a contrast pocket; Travel = a luggage tag; Casual =
  plain. Sports shoes are sports by their shape and carry no extra cue.
Real catalogs are not always readable: a small share of items is drawn without its gender or usage cue
(`GENDER_CUE_SHARE`, `USAGE_CUE_SHARE`), and the catalog's `cues.jsonl` records what each item carries.
"""

from __future__ import annotations

GENDER_CUE_SHARE = 0.95
USAGE_CUE_SHARE = 0.95

# gender -> (width factor of the item box, trim colour, trim width as a share of the item width)
GENDER_LOOK: dict[str, tuple[float, tuple[int, int, int], float]] = {
    "Women": (0.84, (226, 92, 150), 0.045),
    "Men": (1.12, (52, 72, 120), 0.045),
}
USAGE_CUES: dict[str, str] = {
    "Sports": "side stripes and mesh panel",
    "Formal": "glossy sheen",
    "Party": "sequins",
    "Ethnic": "gold embroidered borders",
    "Smart Casual": "contrast pocket",
    "Travel": "luggage tag",
}
GENDER_CUES: dict[str, str] = {"Women": "slim cut, rose piping", "Men": "boxy cut, slate piping"}


def gender_cue(gender: str, drawn: bool) -> str | None:
    """The named gender cue an item carries (None: drawn without one)."""
    return GENDER_CUES.get(gender) if drawn else None


def usage_cue(usage: str, master: str, drawn: bool) -> str | None:
    """The named usage cue an item carries (None: plain)."""
    if not drawn or (usage == "Sports" and master == "Footwear"):
        return None
    return USAGE_CUES.get(usage)


def cue_record(spec, master: str) -> dict:  # spec: sample.ItemSpec
    """The `cues.jsonl` row of one item: every visible cue by attribute (None = not drawn)."""
    return {
        "id": spec.id,
        "gender": gender_cue(spec.gender, spec.gender_cue),
        "usage": usage_cue(spec.usage, master, spec.usage_cue),
        "pattern": None if spec.pattern == "solid" else spec.pattern,
        "printed": spec.printed is not None,
    }
