"""Author profiles: ``content/authors/<slug>.md`` becomes ``author.profile``.

A profile file holds ``Name``, ``Role``, ``Photo`` (a path under ``content/``),
``Photo_alt`` and any number of ``Link: <label> <url>`` lines; its Markdown body
is the bio shown in the "Over de auteur" box and on the author page.

An article's ``Author``/``Authors`` may name a profile by slug or by name. The
plugin gives every matching ``Author`` object the profile's display name, slug and
``profile``. An author without a profile is reported as an error that names the
article, because a typo would otherwise create a second, empty author page.
"""

import logging
import os
from dataclasses import dataclass, field

from markupsafe import Markup
from pelican import signals
from pelican.contents import Article
from pelican.readers import MarkdownReader
from pelican.utils import slugify

from adviesblog_common.sanitize import FORBIDDEN_CHARACTERS
from adviesblog_common.settings import apply_defaults

logger = logging.getLogger(__name__)

DEFAULTS = {
    # Folder under PATH that holds one Markdown file per author.
    "AUTHOR_PROFILES_PATH": "authors",
}

_PROFILES_KEY = "author_profiles"
_KNOWN_FIELDS = {"name", "role", "photo", "photo_alt", "link"}


@dataclass
class AuthorProfile:
    slug: str
    name: str
    role: str = ""
    photo: str = ""
    photo_alt: str = ""
    bio: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)
    source_path: str = ""


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def read_profile(path: str, settings, content_root: str) -> AuthorProfile | None:
    """Parse one author file; log an error naming the file and field on bad input."""
    try:
        bio, meta = MarkdownReader(settings).read(path)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        logger.error("%s: cannot be read (%s); expected UTF-8 'Name: …' lines and a short "
                     "Markdown bio", os.path.relpath(path), type(error).__name__)
        return None
    slug = os.path.splitext(os.path.basename(path))[0]
    for name in ("name", "role", "photo_alt"):
        if FORBIDDEN_CHARACTERS.search(str(meta.get(name, ""))):
            logger.error("%s: field %r holds a control character; remove it",
                         os.path.relpath(path), name.capitalize())
            return None
    for unknown in sorted(set(meta) - _KNOWN_FIELDS):
        logger.error(
            "%s: unknown field %r; an author file knows %s",
            os.path.relpath(path),
            unknown.capitalize(),
            ", ".join(sorted(f.capitalize() for f in _KNOWN_FIELDS)),
        )
    if not meta.get("name"):
        logger.error(
            "%s: field 'Name' is missing; expected e.g. 'Name: Marloes Verhagen'",
            os.path.relpath(path),
        )
        return None
    links = []
    for line in _as_list(meta.get("link")):
        label, _, url = line.strip().rpartition(" ")
        if not label or not url.startswith(("https://", "http://", "mailto:")):
            logger.error(
                "%s: field 'Link' is %r; expected '<label> <url>', e.g. "
                "'Link: LinkedIn https://www.linkedin.com/in/naam'",
                os.path.relpath(path),
                line,
            )
            continue
        links.append((label.strip(), url))
    photo = meta.get("photo", "").lstrip("/")
    if photo and not os.path.isfile(os.path.join(content_root, photo)):
        logger.error(
            "%s: field 'Photo' names %r, which does not exist under %s",
            os.path.relpath(path),
            photo,
            content_root,
        )
        photo = ""
    return AuthorProfile(
        slug=slug,
        name=meta["name"],
        role=meta.get("role", ""),
        photo=photo,
        photo_alt=meta.get("photo_alt", meta["name"]),
        bio=Markup(bio),  # Markdown output: the build made it
        links=links,
        source_path=path,
    )


def load_profiles(settings) -> dict[str, AuthorProfile]:
    content_root = settings["PATH"]
    folder = os.path.join(content_root, settings["AUTHOR_PROFILES_PATH"])
    profiles = {}
    if not os.path.isdir(folder):
        return profiles
    for name in sorted(os.listdir(folder)):
        if name.endswith(".md"):
            profile = read_profile(os.path.join(folder, name), settings, content_root)
            if profile:
                profiles[profile.slug] = profile
    return profiles


def profiles_for(context, settings) -> dict[str, AuthorProfile]:
    """The build's profiles, read once and kept on the build's shared context."""
    profiles = context.get(_PROFILES_KEY)
    if profiles is None:
        profiles = load_profiles(settings)
        context[_PROFILES_KEY] = profiles
    return profiles


def find_profile(author, profiles: dict[str, AuthorProfile]) -> AuthorProfile | None:
    by_slug = profiles.get(author.slug) or profiles.get(slugify(str(author)))
    if by_slug:
        return by_slug
    wanted = str(author).strip().casefold()
    return next((p for p in profiles.values() if p.name.casefold() == wanted), None)


def set_defaults(pelican):
    apply_defaults(pelican.settings, "AUTHOR_PROFILES_", DEFAULTS)


def attach_profiles(content):
    """Resolve an article's authors against the profiles before Pelican files it."""
    if not isinstance(content, Article) or content._context is None:
        return
    profiles = profiles_for(content._context, content.settings)
    for author in getattr(content, "authors", []):
        profile = find_profile(author, profiles)
        if profile is None:
            logger.error(
                "%s: field 'Author' names %r, who has no profile; expected one of: "
                "%s (a file content/%s/<slug>.md)",
                os.path.relpath(content.source_path),
                str(author),
                ", ".join(sorted(profiles)) or "nobody yet",
                content.settings["AUTHOR_PROFILES_PATH"],
            )
            continue
        author.name = profile.name
        author.slug = profile.slug
        author.profile = profile


def register():
    signals.initialized.connect(set_defaults)
    signals.content_object_init.connect(attach_profiles)
