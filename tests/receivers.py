"""A real HTTP receiver for the custodians' notices, on 127.0.0.1 in a thread of the
test: it verifies each notice with the `standardwebhooks` library (as a custodian
would), answers 500 for the first ``fail_first`` notices it receives (an outage), then
204, and keeps what it received."""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    headers: dict[str, str]
    raw: str
    verified: bool
    payload: dict | None


class Receiver:
    def __init__(self) -> None:
        self.secret: str | None = None
        self.fail_first = 0
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                got = Received(headers, raw, False, None)
                got.verified = receiver.verifies(got)
                got.payload = json.loads(raw) if got.verified else None
                receiver.received.append(got)
                failing = len(receiver.received) <= receiver.fail_first
                self.send_response(500 if failing or not got.verified else 204)
                self.end_headers()

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/portal-notices"

    def verifies(self, got: Received) -> bool:
        try:
            Webhook(self.secret).verify(got.raw, got.headers)
        except WebhookVerificationError:
            return False
        return True

    def __enter__(self) -> "Receiver":
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
