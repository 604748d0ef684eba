"""HTML from readers and imports is hostile: one allow-list, and no personal data.

``clean_user_html`` keeps only the tags, attributes and URL schemes of the
allow-list (nh3, the Rust sanitiser ammonia). It is used for comment bodies at
every build, for the summaries authors write, and by the importers, so a rule
changed here changes everywhere. ``mailto:`` is not allowed: an address in a
link is personal data. ``remove_private_data`` replaces email and IP addresses in
text with a Dutch placeholder and counts what it removed.
"""

import re
from collections import Counter

import nh3

USER_TAGS = frozenset({"p", "br", "a", "em", "strong", "blockquote", "code", "pre", "ul",
                       "ol", "li"})
USER_ATTRIBUTES = {"a": {"href"}}
USER_URL_SCHEMES = frozenset({"http", "https"})
READER_LINK_REL = "nofollow ugc noopener"

# Characters that neither XML 1.0 (the feeds) nor HTML may carry: the C0 controls but
# tab, line feed and carriage return, DEL, and the non-characters U+FFFE and U+FFFF.
FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

# Ids that name a file and an HTML anchor (comments, imported records): nothing that
# can leave a folder or an attribute.
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

EMAIL_PLACEHOLDER = "[e-mailadres verwijderd]"
IP_PLACEHOLDER = "[IP-adres verwijderd]"
# Matching starts only where a run of address characters starts, so that a long run
# without an "@" is read once, not once per character.
# Letters of any script: mail servers accept "zoë@voorbeeld.nl" and "jan@café.nl" (RFC 6531).
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
                   r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,5})?(?![\w:])")


def clean_user_html(html: str, link_rel: str | None = READER_LINK_REL) -> str:
    """Only the allow-listed tags, attributes and URL schemes of ``html``.

    nh3 writes a character reference as the character itself, so ``&#x1b;`` would come
    out as a control character that no feed can hold: those are left out.
    """
    cleaned = nh3.clean(html, tags=set(USER_TAGS), attributes=USER_ATTRIBUTES,
                        url_schemes=set(USER_URL_SCHEMES), link_rel=link_rel)
    return FORBIDDEN_CHARACTERS.sub("", cleaned)


def remove_private_data(text: str, removed: Counter | None = None) -> str:
    """``text`` with email and IP addresses replaced; counted in ``removed``."""
    text, emails = _EMAIL.subn(EMAIL_PLACEHOLDER, text)
    text, ipv4 = _IPV4.subn(IP_PLACEHOLDER, text)
    text, ipv6 = _IPV6.subn(IP_PLACEHOLDER, text)
    if removed is not None:
        removed["email addresses"] += emails
        removed["IP addresses"] += ipv4 + ipv6
    return text


def has_private_data(text: str) -> bool:
    return bool(_EMAIL.search(text) or _IPV4.search(text) or _IPV6.search(text))
