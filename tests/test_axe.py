"""axe-core in Debian's Chromium, and the follow button's place on phone and desktop."""

from urllib.parse import urljoin

import pytest

from tests import test_browser
from tests.test_browser import png_size
from tests.tools import axe_script

pytestmark = pytest.mark.browser

# The smoke test's Chromium and local server, so both files drive the site the same way.
site_url = test_browser.site_url

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = {"small-phone": {"width": 320, "height": 640}, "phone": PHONE,
          "tablet": {"width": 768, "height": 1024},
          "small-desktop": {"width": 1024, "height": 768}, "desktop": DESKTOP}

# Rects of the visible text nodes outside the button that intersect the button's box. A text
# rect is cut to every ancestor that clips (overflow, `clip`), so visually hidden text, whose
# range still reports its full width, does not count.
TEXT_UNDER_BUTTON = """button => {
  const box = button.getBoundingClientRect();
  const clipped = (rect, element) => {
    let [left, top, right, bottom] = [rect.left, rect.top, rect.right, rect.bottom];
    for (let el = element; el && el !== document.documentElement; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.clip !== "auto" && style.position === "absolute") return null;
      if (style.overflowX !== "visible" || style.overflowY !== "visible") {
        const frame = el.getBoundingClientRect();
        [left, top] = [Math.max(left, frame.left), Math.max(top, frame.top)];
        [right, bottom] = [Math.min(right, frame.right), Math.min(bottom, frame.bottom)];
      }
    }
    return right - left > 1 && bottom - top > 1 ? {left, top, right, bottom} : null;
  };
  const hits = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.data.trim() || button.contains(node) || !parent.checkVisibility(
        {visibilityProperty: true, opacityProperty: true})) continue;
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) {
      const seen = clipped(rect, parent);
      if (seen && seen.left < box.right && seen.right > box.left
          && seen.top < box.bottom && seen.bottom > box.top) {
        hits.push(`"${node.data.trim().slice(0, 50)}" at ${JSON.stringify(seen)}`);
      }
    }
  }
  return hits;
}"""


@pytest.fixture(scope="module")
def pages(dev_site):
    """Home, a series part, its series page and the archive, as paths on the server."""
    parts = [p for p in dev_site.html_pages() if p.parent.parent.name.isdigit()
             and dev_site.soup(str(p.relative_to(dev_site.output))).select_one("nav.series")]
    assert parts, "the sample site has no article in a series"
    part = "/" + str(parts[0].parent.relative_to(dev_site.output)) + "/"
    series_link = dev_site.soup(part.lstrip("/")).select_one(".series__title a")["href"]
    series = urljoin(part, series_link)
    assert series.startswith("/serie/"), series
    return {"home": "/", "series-part": part, "series": series, "archive": "/archief/"}


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(axe_script()))
    violations = page.evaluate("axe.run(document).then(result => result.violations)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}; nodes: "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        for v in violations
    ]


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("name", ["home", "series-part", "series", "archive"])
def test_axe_finds_no_violations(browser, site_url, pages, name, viewport):
    page = browser.new_page(viewport=WIDTHS[viewport])
    page.goto(site_url + pages[name])
    violations = axe_violations(page)
    page.close()
    assert violations == [], f"{pages[name]} at {viewport}:\n" + "\n".join(violations)


@pytest.mark.parametrize("viewport", sorted(WIDTHS))
def test_follow_button_covers_no_text_at_any_scroll_position(
        browser, site_url, pages, viewport, tmp_path):
    size = WIDTHS[viewport]
    page = browser.new_page(viewport=size)
    page.goto(site_url + pages["series-part"])
    button = page.locator(".follow-button")
    height = page.evaluate("document.documentElement.scrollHeight")
    bottom = height - size["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    assert bottom > 2 * size["height"], "the article is too short to scroll through"
    for scroll in sorted({0, bottom // 4, bottom // 2, 3 * bottom // 4, bottom}):
        page.evaluate(f"window.scrollTo(0, {scroll})")
        page.evaluate("new Promise(done => requestAnimationFrame(() => done()))")
        assert page.evaluate("window.scrollY") == scroll
        hits = button.evaluate(TEXT_UNDER_BUTTON)
        assert hits == [], f"at {viewport}, scrolled to {scroll}px, the button covers:\n" + \
            "\n".join(hits)
    shot = tmp_path / f"artikel-{size['width']}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert png_size(shot)[0] == size["width"]
    page.close()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("name", ["series-part", "archive"])
def test_follow_button_is_visible_and_leads_to_the_follow_block_without_javascript(
        browser, site_url, pages, name, viewport):
    context = browser.new_context(viewport=WIDTHS[viewport], java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + pages[name])
    button = page.locator(".follow-button")
    box = button.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0
    assert 0 <= box["y"] and box["y"] + box["height"] <= WIDTHS[viewport]["height"]
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert button.evaluate("(b, [x, y]) => b.contains(document.elementFromPoint(x, y))", centre)
    assert button.inner_text() == "Volg"
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/#volg")
    heading = page.locator("#volg h2").bounding_box()
    assert heading and 0 <= heading["y"] < WIDTHS[viewport]["height"], "no jump to the block"
    context.close()
