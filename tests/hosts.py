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
        data, headers = None, {}
        if json_body is not None:
            data, headers["Content-Type"] = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if token:
            headers["Authorization"] = f"Bearer {token}"
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

    def answers(self) -> bool:
        try:
            return self.call("/healthz").status == 200
        except OSError:
            return False


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
        while not host.answers():
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
