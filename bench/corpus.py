"""A deterministic corpus of Dutch articles, with authors, categories, tags and series.

The same ``seed`` and ``articles`` always give byte-identical files, so two runs of
the benchmark, or a run today and one next year, measure the same work.
"""

import datetime
import random
from pathlib import Path

AUTHORS = {
    "eva-de-boer": ("Eva de Boer", "Trainer klantcontact"),
    "ruben-smit": ("Ruben Smit", "Adviseur leiderschap"),
    "lotte-visser": ("Lotte Visser", "Teamcoach"),
    "milan-bakker": ("Milan Bakker", "Organisatieadviseur"),
    "noor-hendriks": ("Noor Hendriks", "Adviseur communicatie"),
}
CATEGORIES = ["Klantgerichtheid", "Leiderschap", "Samenwerken", "Verandering"]
TAGS = [
    "feedback", "overleg", "werkdruk", "cultuur", "telefoon", "gesprekstechniek",
    "teamontwikkeling", "beslissen", "hybride werken", "klantcontact", "coaching",
    "verandering", "motivatie", "vertrouwen", "planning", "leiderschap",
]
SERIES = ["Interne klantgerichtheid", "Beter vergaderen", "Leidinggeven op afstand"]
WORDS = (
    "team klant collega gesprek vraag antwoord afspraak overleg werk dag week doel "
    "resultaat plezier druk ruimte richting vertrouwen luisteren vragen besluit plan "
    "leidinggevende medewerker organisatie samen beter sneller rustig duidelijk eerlijk "
    "open kort goed nieuw vaak soms altijd nooit misschien zeker eigenlijk gewoon"
).split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))


def _body(rng: random.Random, previous_slug: str | None) -> str:
    parts = [_paragraph(rng)]
    if previous_slug:
        parts.append(f"Lees ook [het vorige artikel]({{filename}}{previous_slug}.md).")
    for number in range(rng.randint(2, 4)):
        parts.append(f"## Stap {number + 1}: {rng.choice(WORDS)}")
        parts.append(_paragraph(rng))
    parts.append("\n".join(f"- {_sentence(rng)}" for _ in range(3)))
    parts.append(_paragraph(rng))
    return "\n\n".join(parts)


def generate(content: Path, articles: int, seed: int = 2017) -> Path:
    """Write the corpus under ``content`` and return it."""
    rng = random.Random(seed)
    (content / "authors").mkdir(parents=True, exist_ok=True)
    (content / "pages").mkdir(parents=True, exist_ok=True)
    for slug, (name, role) in AUTHORS.items():
        (content / "authors" / f"{slug}.md").write_text(
            f"Name: {name}\nRole: {role}\n\n{_paragraph(rng)}\n", encoding="utf-8"
        )
    (content / "pages" / "over-ons.md").write_text(
        f"Title: Over ons\nSlug: over-ons\n\n{_paragraph(rng)}\n", encoding="utf-8"
    )
    start = datetime.datetime(2012, 1, 2, 9, 0)
    series_parts = dict.fromkeys(SERIES, 0)
    previous_slug_by_year = {}
    for number in range(articles):
        date = start + datetime.timedelta(hours=13 * number)
        slug = f"artikel-{number:05d}"
        lines = [
            f"Title: Artikel {number}: {rng.choice(WORDS)} en {rng.choice(WORDS)}",
            f"Date: {date:%Y-%m-%d %H:%M}",
            f"Slug: {slug}",
            f"Author: {rng.choice(sorted(AUTHORS))}",
            f"Category: {rng.choice(CATEGORIES)}",
            f"Tags: {', '.join(rng.sample(TAGS, rng.randint(1, 3)))}",
        ]
        if number % 2 == 0:
            lines.append(f"Summary: {_sentence(rng)}")
        if number % 10 == 0:
            series = SERIES[(number // 10) % len(SERIES)]
            series_parts[series] += 1
            lines += [f"Series: {series}", f"Series_index: {series_parts[series]}",
                      f"Next: {rng.choice(WORDS)} en {rng.choice(WORDS)}"]
        folder = content / "articles" / f"{date:%Y}"
        folder.mkdir(parents=True, exist_ok=True)
        body = _body(rng, previous_slug_by_year.get(date.year))
        (folder / f"{slug}.md").write_text("\n".join(lines) + "\n\n" + body + "\n",
                                           encoding="utf-8")
        previous_slug_by_year[date.year] = slug
    return content
