"""The append-only JSONL cache: stable keys, durable puts, and resume after a real SIGKILL."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from modeling_moda.backends.cache import JsonlCache, make_key

# A worker that caches one "reply" per item, skipping items already cached (what a teacher run does).
WORKER = textwrap.dedent(
    """
    import sys, time
    from modeling_moda.backends.cache import JsonlCache, make_key
    path, n = sys.argv[1], int(sys.argv[2])
    cache = JsonlCache(path)
    done = 0
    for i in range(n):
        key = make_key(item=str(i), step="teacher", model="m", prompt_version="v1")
        if key in cache:
            continue
        time.sleep(0.005)  # the model call this cache saves
        cache.put(key, {"item": str(i), "text": f"reply {i} " + "x" * 2000})
        done += 1
    print(done)
    """
)


def _key(i: int) -> str:
    return make_key(item=str(i), step="teacher", model="m", prompt_version="v1")


def _lines(path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_make_key_is_stable_and_order_free():
    a = make_key(item="1", step="teacher", model="m", prompt_version="v1")
    assert a == make_key(prompt_version="v1", model="m", step="teacher", item="1")
    assert a != make_key(item="1", step="refiner", model="m", prompt_version="v1")
    assert re.fullmatch(r"[0-9a-f]{32}", a)
    assert make_key(messages=[{"role": "user", "content": "é"}]) == make_key(
        messages=[{"role": "user", "content": "é"}]
    )
    with pytest.raises(TypeError):
        make_key(obj=object())


def test_put_get_reload_and_last_write_wins(tmp_path):
    path = tmp_path / "sub" / "cache.jsonl"
    with JsonlCache(path) as cache:
        cache.put("a", {"text": "one", "usage": {"prompt_tokens": 3}})
        cache.put("b", [1, 2, 3])
        cache.put("a", {"text": "two"})
        assert cache.get("a") == {"text": "two"} and "b" in cache and cache.get("zzz", 7) == 7
    reloaded = JsonlCache(path)
    assert len(reloaded) == 2 and reloaded.get("a") == {"text": "two"} and reloaded.get("b") == [1, 2, 3]
    assert [json.loads(line)["key"] for line in path.read_text().splitlines()] == ["a", "b", "a"]


def test_torn_last_line_is_ignored_and_cut_off(tmp_path):
    path = tmp_path / "cache.jsonl"
    with JsonlCache(path) as cache:
        cache.put("a", 1)
    with open(path, "ab") as f:
        f.write(b'{"key":"b","value":{"text":"half a li')
    cache = JsonlCache(path)
    assert cache.keys() == ["a"] and cache.torn_lines == 1
    cache.put("c", 3)
    cache.close()
    assert JsonlCache(path).keys() == ["a", "c"]
    assert path.read_text() == '{"key":"a","value":1}\n{"key":"c","value":3}\n'


def test_complete_last_line_without_newline_is_kept(tmp_path):
    path = tmp_path / "cache.jsonl"
    path.write_text('{"key":"a","value":1}\n{"key":"b","value":2}')
    cache = JsonlCache(path)
    cache.put("c", 3)
    cache.close()
    assert JsonlCache(path).keys() == ["a", "b", "c"] and cache.torn_lines == 0


def test_corrupt_middle_line_warns_with_file_and_line(tmp_path):
    path = tmp_path / "cache.jsonl"
    path.write_text('{"key":"a","value":1}\nGARBAGE\n{"key":"b","value":2}\n')
    with pytest.warns(UserWarning, match=r"cache\.jsonl:2: skipping unreadable cache line"):
        cache = JsonlCache(path)
    assert cache.keys() == ["a", "b"] and cache.skipped_lines == 1


def test_threads_share_one_cache(tmp_path):
    path = tmp_path / "cache.jsonl"
    cache = JsonlCache(path)
    threads = [
        threading.Thread(target=lambda t=t: [cache.put(f"{t}-{i}", "v" * 500) for i in range(50)])
        for t in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cache.close()
    assert len(JsonlCache(path)) == 200 and _lines(path) == 200


@pytest.mark.slow  # starts a writer process
def test_resume_after_sigkill_loses_nothing_and_repeats_nothing(tmp_path):
    path, n = tmp_path / "cache.jsonl", 400
    cmd = [sys.executable, "-c", WORKER, str(path), str(n)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while _lines(path) < 20 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the worker finished before it could be killed; raise n"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    before = JsonlCache(path)
    survived = len(before)
    before.close()
    assert 20 <= survived < n
    for key in JsonlCache(path).keys():  # every surviving entry is whole
        assert JsonlCache(path).get(key)["text"].endswith("x" * 2000)

    resumed = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert int(resumed.stdout) == n - survived  # repeats no finished call
    final = JsonlCache(path)
    assert sorted(final.keys()) == sorted(_key(i) for i in range(n))  # loses nothing
    assert _lines(path) == n  # and writes no duplicate
    assert all(final.get(_key(i))["item"] == str(i) for i in range(n))


@pytest.mark.slow  # starts a writer process
def test_sigkill_mid_line_leaves_a_torn_line_that_the_next_run_drops(tmp_path):
    """A writer killed between the two halves of a line (forced here) cannot corrupt the cache."""
    path = tmp_path / "cache.jsonl"
    with JsonlCache(path) as cache:
        cache.put("done", "ok")
    script = textwrap.dedent(
        f"""
        import os, time
        fd = os.open({str(path)!r}, os.O_WRONLY | os.O_APPEND)
        os.write(fd, b'{{"key":"torn","value":"part')
        os.fsync(fd)
        print("written", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "written"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    cache = JsonlCache(path)
    assert cache.keys() == ["done"] and cache.torn_lines == 1
    cache.put("next", 1)
    cache.close()
    assert JsonlCache(path).keys() == ["done", "next"]
