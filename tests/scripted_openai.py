"""A real OpenAI-compatible HTTP server on 127.0.0.1 whose replies are scripted (for retry/repair tests).

Only the replies are scripted: the client under test talks real HTTP to it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedOpenAIServer:
    """POST /v1/chat/completions: answers with the scripted (status, text) pairs in order, then with
    (200, default). A text of None echoes the last message's content; a callable default is called with the
    request body. Records each request and its time, and the most requests it served at once. `port=0` takes
    a free port; give one to bring a server back where a client expects it."""

    def __init__(
        self,
        script: list[tuple[int, str | None]],
        default: str | Callable[[dict], str] | None = None,
        usage: tuple[int, int] = (5, 2),
        headers: dict | None = None,
        delay: float = 0.0,
        port: int = 0,
    ):
        self.script, self.requests, self.times = list(script), [], []
        self.active = self.max_active = 0
        outer, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    outer.requests.append(body)
                    outer.times.append(time.monotonic())
                    status, text = outer.script.pop(0) if outer.script else (200, default)
                    outer.active += 1
                    outer.max_active = max(outer.max_active, outer.active)
                time.sleep(delay)
                with lock:
                    outer.active -= 1
                if callable(text):
                    text = text(body)
                if text is None:
                    text = body["messages"][-1]["content"]
                payload = (
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": usage[0],
                            "completion_tokens": usage[1],
                            "total_tokens": sum(usage),
                        },
                    }
                    if status == 200
                    else {"error": {"message": f"status {status}"}}
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def keep_the_draft(body: dict) -> str:
    """A refiner's reply keeping the draft: small-v1's Prompt II ends with the draft as the JSON to return."""
    return body["messages"][-1]["content"].splitlines()[-1]
