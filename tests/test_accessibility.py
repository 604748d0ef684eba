"""WCAG 2.1 AA colour contrast for every colour pair the stylesheet uses."""

import pytest
from pelican.settings import read_settings

from tests.support import ROOT

# (foreground, background) pairs as used in theme/static/css/site.css.
PAIRS = [
    ("text", "background"),  # body text
    ("text", "surface"),  # cards, author box, footer
    ("muted", "background"),  # lead, byline
    ("muted", "surface"),  # byline on cards, colophon
    ("brand", "background"),  # links
    ("brand", "surface"),  # links on cards and in the footer
    ("accent", "background"),  # link hover
    ("#ffffff", "brand"),  # header text, skip link, follow button
    ("#ffffff", "accent"),  # follow button on hover
]


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)),
                             reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("foreground, background", PAIRS)
def test_theme_colours_meet_aa_for_normal_text(foreground, background):
    colours = read_settings(str(ROOT / "pelicanconf.py"))["THEME_COLORS"]
    fore = colours.get(foreground, foreground)
    back = colours.get(background, background)
    assert contrast(fore, back) >= 4.5, f"{foreground} on {background}: {contrast(fore, back):.2f}"


def test_stylesheet_uses_only_the_configured_colour_names():
    css = (ROOT / "theme" / "static" / "css" / "site.css").read_text(encoding="utf-8")
    colours = read_settings(str(ROOT / "pelicanconf.py"))["THEME_COLORS"]
    used = {part.split(")")[0] for part in css.split("var(--")[1:]}
    assert used <= set(colours), used - set(colours)
