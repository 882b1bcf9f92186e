"""`moda serve` in a child process on loopback, for tests, the load test and the image-teacher build.

    with ModaServer("runs/quickstart/model", extra_args=["--max-batch-size", "16"]) as base_url:
        OpenAIChat(base_url, model=None).chat(...)

The start/health-wait/stop logic is the backends' local-server launcher; only the command differs.
"""

from __future__ import annotations

import sys

from modeling_moda.backends.smollm2 import LocalOpenAIServer


class ModaServer(LocalOpenAIServer):
    """`moda serve MODEL` on 127.0.0.1 and a free port; `server.model` is the served model id."""

    label = "moda serve"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "modeling_moda", "serve", self.model]
        return cmd + [
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            *self.extra_args,
        ]
