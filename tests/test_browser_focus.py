"""The keyboard's focus in a real browser: the ring it draws, and where a form sent back
with errors puts it.

The ring: every link, button, field and box a Tab reaches draws an outline whose colour
has at least 3:1 contrast with the colours beside it (WCAG 2.2, 1.4.11 and 2.4.13),
measured in the browser from the computed styles: the page's cream, a white panel, the
dark header band (a browser walk measured 1.9:1 for the amber ring on the cream).

The error summary: a form sent back with errors gives its summary the focus (a screen
reader reads it first, a keyboard starts from it); its link to a group of boxes focuses
the group's first box."""

import pytest
from playwright.sync_api import Page

import browsers
from browsers import needs_chromium, on_the_sqlite_pass, sign_in_as

pytestmark = [needs_chromium, on_the_sqlite_pass]

WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}  # the header's "Menu" shows
LEAST = 3.0

# The focused element's ring and the least contrast it has with what lies beside it: just
# outside the ring and in the gap between the ring and the element, on each side; what
# lies there is the first element under the point that is not the focused one, its
# background (or its ancestors', layered) the colour seen.
RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const name = `${el.tagName.toLowerCase()}${el.type ? '[' + el.type + ']' : ''}`
    + ` "${(el.innerText || el.value || el.id || '').trim().slice(0, 40)}"`;
  const width = parseFloat(style.outlineWidth);
  if (style.outlineStyle === 'none' || !width) return {name, ring: null};
  const parse = text => {
    const [r, g, b, a = 1] = text.match(/[\\d.]+/g).map(Number);
    return {r, g, b, a};
  };
  const luminance = ({r, g, b}) => {
    const f = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const behind = (x, y) => {
    const under = document.elementsFromPoint(x, y).find(e => e !== el && !el.contains(e));
    const layers = [];
    for (let e = under; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) layers.unshift(c);
      if (c.a >= 1) break;
    }
    return layers.reduce((below, c) => ({
      r: c.r * c.a + below.r * (1 - c.a),
      g: c.g * c.a + below.g * (1 - c.a),
      b: c.b * c.a + below.b * (1 - c.a),
    }), {r: 255, g: 255, b: 255});
  };
  const ring = parse(style.outlineColor);
  const box = el.getBoundingClientRect();
  const offset = parseFloat(style.outlineOffset);
  const distances = [offset + width + 1];
  if (offset >= 2) distances.push(offset / 2);
  let least = Infinity, where = null;
  for (const d of distances) {
    for (const [x, y] of [
      [box.right + d, (box.top + box.bottom) / 2], [box.left - d, (box.top + box.bottom) / 2],
      [(box.left + box.right) / 2, box.top - d], [(box.left + box.right) / 2, box.bottom + d],
    ]) {
      if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
      const seen = behind(x, y), ratio = contrast(ring, seen);
      if (ratio < least) { least = ratio; where = `rgb(${seen.r}, ${seen.g}, ${seen.b})`; }
    }
  }
  return {name, ring: style.outlineColor, least, where};
}"""


def rings(page: Page, label: str, limit: int = 120) -> list[str]:
    """Tab through the page from its top: what each stop's ring falls short of."""
    problems, seen = [], set()
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(RING)
        if found is None:
            break
        key = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
        if key in seen:
            break
        seen.add(key)
        if found["ring"] is None:
            problems.append(f"{label}: {found['name']} draws no focus ring")
        elif found["least"] < LEAST:
            problems.append(
                f"{label}: {found['name']}: ring {found['ring']} on {found['where']}"
                f" is {found['least']:.2f}:1"
            )
    assert len(seen) > 3, f"{label}: the Tab key reached {len(seen)} elements"
    return problems


def send_empty(page: Page, button: str) -> None:
    """Send the form of ``button`` as it stands, the browser's own checks off."""
    page.evaluate("() => document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    page.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state()


def test_the_focus_ring_stands_out_wherever_it_is_drawn(live_server, flow):
    problems = []
    with browsers.chromium() as browser:
        for viewport in (WIDE, PHONE):
            size = "wide" if viewport is WIDE else "phone"
            page = browser.new_context(viewport=viewport).new_page()
            page.goto(f"{live_server.url}/sign-in")
            problems += rings(page, f"sign-in ({size})")
            sign_in_as(page, live_server, "researcher@example.org")
            page.goto(f"{live_server.url}/requests/new")  # boxes, radios, fields, buttons
            problems += rings(page, f"new request ({size})")
            send_empty(page, "Save and submit")  # the error summary's links, on white
            problems += rings(page, f"new request sent empty ({size})")
            page.context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no script"])
def test_a_form_sent_back_with_errors_focuses_its_summary(live_server, flow, javascript):
    ref = flow.draft(title="To screen (fictional)")
    flow.do("researcher", "submit", ref)
    with browsers.chromium() as browser:
        page = browser.new_context(java_script_enabled=javascript).new_page()
        # A summary the form's own template writes (the request's form).
        sign_in_as(page, live_server, "researcher@example.org")
        page.goto(f"{live_server.url}/requests/new")
        send_empty(page, "Save and submit")
        summary = page.locator(".error-summary")
        assert summary.get_attribute("role") == "alert"
        focused = "document.activeElement.className"
        if not javascript:  # the page still works: the summary and its links are there
            assert page.evaluate(focused) != "error-summary"
            assert summary.get_by_role("link").count() > 1
            page.context.close()
            return
        assert page.evaluate(focused) == "error-summary"
        summary.get_by_role("link", name="Datasets", exact=False).click()
        assert page.evaluate("document.activeElement.closest('#datasets') !== null")
        assert page.evaluate("document.activeElement.type") == "checkbox"

        # A summary of the shared macro (the coordinator's screening form).
        sign_in_as(page, live_server, "coordinator@example.org")
        page.goto(f"{live_server.url}/requests/{ref}/screen")
        send_empty(page, "Record screening")
        assert page.evaluate(focused) == "error-summary"
        page.locator(".error-summary a").first.click()
        assert page.evaluate("document.activeElement.type") == "radio"
        page.context.close()
