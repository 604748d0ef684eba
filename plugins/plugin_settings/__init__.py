"""Settings helper shared by adviesblog's plugins (a library, not a Pelican plugin).

Every plugin keeps its defaults in one ``DEFAULTS`` mapping of prefixed UPPERCASE
keys. On Pelican's ``initialized`` signal the plugin calls ``apply_defaults``, which
fills in every key the user did not set and reports, with the plugin's prefix, any
key that carries the prefix but is not known: a typo in ``pelicanconf.py`` must not
be silently ignored. After that the plugin reads ``settings[KEY]`` directly.
"""

import copy
import difflib
import logging
from collections.abc import Mapping, MutableMapping
from typing import Any

logger = logging.getLogger(__name__)


def apply_defaults(
    settings: MutableMapping[str, Any], prefix: str, defaults: Mapping[str, Any]
) -> None:
    """Fill in the plugin's defaults in ``settings`` and log unknown ``prefix`` keys."""
    for key in [key for key in settings if key.startswith(prefix)]:
        if key in defaults:
            continue
        close = difflib.get_close_matches(key, defaults, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        logger.error(
            "%s: unknown setting %s.%s Known settings: %s.",
            prefix.rstrip("_").lower(),
            key,
            hint,
            ", ".join(sorted(defaults)),
        )
    for key, value in defaults.items():
        if key not in settings:
            settings[key] = copy.deepcopy(value)
