"""What a subscriber agrees to: the consent text, its version, and the promised frequency.

``FOLLOW_FREQUENCY`` is a key of ``FREQUENCY_DAYS``. The key gives the sender's
rule (at least that many days between two emails to one subscriber) and, through
the theme's ``frequency_text`` macro, the words of the consent text. The forms,
``formulier.json`` and ``editions.json`` all take both from here, so what the
reader agreed to and what the sender does cannot disagree.
"""


from markupsafe import Markup

from adviesblog_common.service_endpoints import consent_version

# Minimum number of days between two emails to one subscriber; 0 sends each article.
FREQUENCY_DAYS = {"every-article": 0, "daily": 1, "weekly": 7, "monthly": 30}
DEFAULT_FREQUENCY = "weekly"


def frequency_problem(value) -> str | None:
    """Why ``value`` is no FOLLOW_FREQUENCY, or None when it is one."""
    if isinstance(value, str) and value in FREQUENCY_DAYS:
        return None
    return (f"follow: FOLLOW_FREQUENCY is {value!r}; expected one of "
            f"{', '.join(map(repr, FREQUENCY_DAYS))}. The consent text and the sender's "
            "cadence are both derived from this key")


def _titles(env):
    # titles.html uses no context, so Jinja builds its module once per environment.
    return env.get_template("titles.html").module


def frequency_promise(settings, env) -> dict:
    """``{"key", "days", "text"}`` of FOLLOW_FREQUENCY; ``text`` as the consent shows it."""
    key = settings["FOLLOW_FREQUENCY"]
    text = Markup(_titles(env).frequency_text(key)).unescape()
    return {"key": key, "days": FREQUENCY_DAYS[key], "text": text}


def consent_promise(settings, env) -> tuple[Markup, str]:
    """The consent text as HTML, and its version: a hash of the text the reader sees."""
    titles = _titles(env)
    text = Markup(titles.consent_text(settings["SITENAME"],
                                      titles.frequency_text(settings["FOLLOW_FREQUENCY"])))
    # The version is a hash of the text the reader saw, not of its HTML escaping.
    return text, consent_version(text.unescape())


def scope_name(env, kind: str, name: str) -> str:
    """The label of a scope as the follow forms show it, as text."""
    return Markup(_titles(env).follow_scope_label(kind, name)).unescape()
