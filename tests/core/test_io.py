"""core.io: a failed write keeps the old file; a torn last JSONL line is skipped, a bad middle one named."""

import json

import pytest

from modeling_moda.core.io import append_jsonl, atomic_path, read_jsonl, write_json, write_jsonl, write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = write_text(tmp_path / "report.md", "old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_the_temporary_keeps_the_suffix_for_writers_that_infer_the_format(tmp_path):
    with atomic_path(tmp_path / "sub" / "loss.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path / "sub"
        tmp.write_bytes(b"png")
    assert (tmp_path / "sub" / "loss.png").read_bytes() == b"png"


def test_json_round_trip_keeps_non_ascii(tmp_path):
    path = write_json(tmp_path / "m.json", {"colour": "écru"})
    assert "écru" in path.read_text(encoding="utf-8") and json.loads(path.read_text()) == {"colour": "écru"}
    rows = [{"id": "1", "text": "bleu marine"}, {"id": "2", "text": "gris"}]
    assert read_jsonl(write_jsonl(tmp_path / "rows.jsonl", rows)) == rows


def test_read_jsonl_skips_a_torn_last_line_and_names_a_bad_complete_one(tmp_path):
    path = tmp_path / "log.jsonl"
    assert read_jsonl(path) == []
    append_jsonl(path, {"step": 1})
    append_jsonl(path, {"step": 2})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"step": 3, "lo')  # a writer killed mid-line
    assert read_jsonl(path) == [{"step": 1}, {"step": 2}]
    path.write_text('{"step": 1}\nGARBAGE\n{"step": 3}\n')
    with pytest.raises(ValueError, match=r"log\.jsonl:2: not a JSON line"):
        read_jsonl(path)
