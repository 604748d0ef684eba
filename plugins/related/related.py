"""Related articles: up to ``RELATED_MAX`` others under each published article.

An article is related by what it shares: one point per shared tag and one for the
same category. The most points win, the newer article when tied, then the source
path, so the choice is the same in every build. Parts of the article's own series
are left out (the series box lists them already), and so is anything that shares
nothing.

The choice is made level by level, from "shares everything" down to "shares one
thing", with set intersections: the work per article depends on its own few tags
and on how many articles share them, not on a comparison with every other article.
"""

import itertools
from collections import Counter, defaultdict

from pelican import signals
from pelican.generators import ArticlesGenerator

from adviesblog_common.settings import apply_defaults

DEFAULTS = {
    # How many related articles each article lists; 0 turns the list off.
    "RELATED_MAX": 3,
}
# Beyond this many tags plus category, trying every combination costs more than
# counting; the result is the same.
_MOST_TERMS_FOR_LEVELS = 6


def set_defaults(pelican):
    apply_defaults(pelican.settings, "RELATED_", DEFAULTS)


def article_terms(article) -> list[tuple[str, str]]:
    """What an article can share: its tags and its category, by slug."""
    terms = [("tag", tag.slug) for tag in getattr(article, "tags", None) or []]
    category = getattr(article, "category", None)
    if category:
        terms.append(("category", category.slug))
    return list(dict.fromkeys(terms))


def series_slug(article):
    series = getattr(article, "series_info", None)
    return series.slug if series else None


def choose_related(terms, holders: dict, excluded: set, limit: int) -> list[int]:
    """Up to ``limit`` article numbers, best first; a lower number is a newer article.

    ``holders`` maps each term to the set of article numbers that have it.
    """
    if limit <= 0:
        return []
    sets = [holders[term] for term in terms]
    if len(sets) > _MOST_TERMS_FOR_LEVELS:
        points = Counter(itertools.chain.from_iterable(sets))
        ranked = sorted((n for n in points if n not in excluded),
                        key=lambda n: (-points[n], n))
        return ranked[:limit]
    chosen = []
    taken = set(excluded)
    for shared in range(len(sets), 0, -1):
        level = set()
        for combination in itertools.combinations(sets, shared):
            level |= set.intersection(*combination)
        level -= taken
        while level and len(chosen) < limit:
            newest = min(level)
            level.discard(newest)
            chosen.append(newest)
            taken.add(newest)
        if len(chosen) == limit:
            break
    return chosen


def assign_related(generator):
    """Give each published article ``related_articles``, a list of at most RELATED_MAX."""
    limit = generator.settings["RELATED_MAX"]
    by_language = defaultdict(list)
    for article in [*generator.articles, *generator.translations]:
        by_language[article.lang].append(article)
    for articles in by_language.values():
        # Number 0 is the newest: the smallest number wins a tie.
        articles.sort(key=lambda a: (-a.date.timestamp(), a.source_path))
        holders = defaultdict(set)
        parts = defaultdict(set)
        for number, article in enumerate(articles):
            for term in article_terms(article):
                holders[term].add(number)
            if series_slug(article):
                parts[series_slug(article)].add(number)
        # Articles with the same tags, category and series get the same choice, but
        # for themselves: choose once per kind, one more, and leave each article out.
        choices = {}
        for number, article in enumerate(articles):
            own_series = series_slug(article)
            kind = (tuple(article_terms(article)), own_series)
            if kind not in choices:
                excluded = parts[own_series] if own_series else set()
                choices[kind] = choose_related(kind[0], holders, excluded, limit + 1)
            chosen = [n for n in choices[kind] if n != number][:limit]
            article.related_articles = [articles[n] for n in chosen]


def assign_related_once_read(generators):
    # Once every generator is final, blog_series has attached the series, whatever
    # the order of PLUGINS.
    for generator in generators:
        if isinstance(generator, ArticlesGenerator):
            assign_related(generator)


def register():
    signals.initialized.connect(set_defaults)
    signals.all_generators_finalized.connect(assign_related_once_read)
