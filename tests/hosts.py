"""Real servers for the tests that need processes of their own: the portal under
gunicorn with portal/gunicorn_conf.py, as production runs it, on a free port of
127.0.0.1, and the calls a browser or a script would make to it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

START_SECONDS = 40
# What portal/gunicorn_conf.py logs once a worker takes calls (that module is not imported
# here: it sets the metrics folder of the process that imports it).
READY_LINE = "Worker ready"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand a redirect back to the test, as the Flask test client does."""

    def redirect_request(self, *_args, **_kwargs):
        return None


def _body_and_headers(
    json_body: Any, form: dict[str, str] | None, token: str | None
) -> tuple[bytes | None, dict[str, str]]:
    """A call's body and the headers that say what it is and who sends it."""
    data, headers = None, {}
    if json_body is not None:
        data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return data, headers


@dataclass
class HeldCall:
    """The status of a call held by Host.holding_a_worker, once the block has ended."""

    status: int | None = None


@dataclass
class Host:
    """One running portal host: its address, and calls to it."""

    base: str
    process: subprocess.Popen = field(repr=False)

    def call(
        self,
        path: str,
        method: str = "GET",
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        token: str | None = None,
        cookies: CookieJar | None = None,
    ) -> Answer:
        """One request; a browser's cookie jar (shared between hosts, as one domain
        would share it behind a load balancer) when ``cookies`` is given."""
        data, headers = _body_and_headers(json_body, form, token)
        handlers: list = [_NoRedirect()]
        if cookies is not None:
            handlers.append(urllib.request.HTTPCookieProcessor(cookies))
        opener = urllib.request.build_opener(*handlers)
        request = urllib.request.Request(self.base + path, data, headers, method=method)  # noqa: S310
        try:
            with opener.open(request, timeout=60) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    @contextmanager
    def holding_a_worker(
        self, path: str, method: str = "GET", *, json_body: Any = None, token: str | None = None
    ) -> Iterator["HeldCall"]:
        """A call whose headers are sent all but their last line, so the sync worker that
        accepts it waits, reading, until the block ends; then the call is completed and
        answered. Connected before anything else is sent, it is the first in the listening
        socket's queue: the first worker to accept takes it, and while the block runs every
        other call goes to another worker."""
        body, headers = _body_and_headers(json_body, None, token)
        body = body or b""
        address = urllib.parse.urlsplit(self.base)
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {address.netloc}",
            "Connection: close",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        held = HeldCall()
        with socket.create_connection((address.hostname, address.port), timeout=60) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n").encode())
            yield held
            sock.sendall(b"\r\n" + body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        held.status = int(answer.split(b" ", 2)[1])

    def answers(self) -> bool:
        try:
            return self.call("/healthz").status == 200
        except OSError:
            return False


def _ready_workers(log: Path) -> int:
    return log.read_text(errors="replace").count(READY_LINE)


@contextmanager
def gunicorn(environment: dict[str, str], folder: Path, workers: int = 1) -> Iterator[Host]:
    """The portal under gunicorn with ``environment`` on top of this process's, until
    the block ends. DATABASE_URL, SECRET_KEY and PORTAL_INSTANCE come from the caller."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "SECURE_COOKIES": "0",
        **environment,
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "python:portal.gunicorn_conf"]
    log = (folder / f"gunicorn-{port}.log").open("wb")
    process = subprocess.Popen(
        [*command, "portal:create_app()"], env=env, cwd=folder, stdout=log, stderr=log
    )
    host = Host(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + START_SECONDS
        # One worker answering is not enough: on a busy machine the others may still be
        # making the app, and a test that spreads calls over them would see one answer all.
        while not host.answers() or _ready_workers(Path(log.name)) < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "gunicorn did not start:\n" + Path(log.name).read_text()[-3000:]
                )
            time.sleep(0.2)
        yield host
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
