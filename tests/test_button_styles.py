"""Every button a template writes carries one of the portal's button classes: a bare
<button> is drawn by the browser's own small grey style, which a browser walk found on
the home page's "Show" (the list of requests' filter), unlike every other button."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
BUTTON = re.compile(r"<button\b[^>]*>")


def test_every_button_in_a_template_has_a_class():
    bare = [
        f"{path.relative_to(TEMPLATES)}: {tag}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for tag in BUTTON.findall(path.read_text(encoding="utf-8"))
        if "class=" not in tag
    ]
    assert bare == []
