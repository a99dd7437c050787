"""An installed portal (a built wheel) carries its templates, migrations and policies,
and `portal demo` serves what it seeds."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

from hatchling.builders.wheel import WheelBuilder

from helpers import csrf_token

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_the_top_level_folders(tmp_path):
    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "portal/_bundled/templates/base.html",
        "portal/_bundled/templates/mail/submitted.txt",
        "portal/_bundled/migrations/env.py",
        "portal/_bundled/migrations/script.py.mako",
        "portal/_bundled/migrations/versions/0001_initial_schema.py",
        "portal/_bundled/policies/model.conf",
        "portal/static/portal.css",
        # compiled by the build (portal/translations/hatch_build.py), never committed
        "portal/translations/fr_CA/LC_MESSAGES/messages.mo",
    ):
        assert expected in names, expected
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "portal = portal:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_portal_demo_serves_and_its_login_works(tmp_path, fresh_database_url):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    env |= {"PORTAL_INSTANCE": str(tmp_path / "instance"), "DATABASE_URL": fresh_database_url}
    portal = Path(sys.executable).parent / "portal"
    server = subprocess.Popen(
        [str(portal), "demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        deadline = time.monotonic() + 60
        while True:
            try:
                page = opener.open(f"{base}/sign-in", timeout=5).read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the demo did not start serving"
                time.sleep(0.3)
        form = urlencode(
            {
                "email": "researcher@example.org",
                "password": "demo-password",
                "csrf_token": csrf_token(page),
            }
        ).encode()
        home = opener.open(f"{base}/sign-in", data=form, timeout=10).read().decode()
        assert "Signed in as" in home and "Robin Researcher" in home
        assert re.search(r"Wellbeing of children in care \(fictional demo request\)", home)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    assert "FICTIONAL" in output and "Serving on http://127.0.0.1:" in output
