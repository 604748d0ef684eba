"""Plugin settings: prefixed UPPERCASE keys, defaults in one place, typos reported.

Every plugin keeps its defaults in one ``DEFAULTS`` mapping of prefixed UPPERCASE
keys. On Pelican's ``initialized`` signal the plugin calls ``apply_defaults``, which
fills in every key the user did not set and reports, with the plugin's prefix, any
key that carries the prefix but is not known: a typo in ``pelicanconf.py`` must not
be silently ignored. After that the plugin reads ``settings[KEY]`` directly.
"""

import copy
import difflib
import logging
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from types import ModuleType
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


def loaded_plugins(settings: Mapping[str, Any]) -> Iterator[ModuleType]:
    """The plugin modules of this build, in the order of ``PLUGINS``.

    Pelican has imported them before any signal is sent, so this only looks them up.
    """
    for plugin in settings.get("PLUGINS") or ():
        module = sys.modules.get(plugin) if isinstance(plugin, str) else plugin
        if module is not None:
            yield module


def plugin_enabled(settings: Mapping[str, Any], name: str) -> bool:
    return any(module.__name__ == name for module in loaded_plugins(settings))


class PluginDependencyError(RuntimeError):
    """A plugin is enabled without a plugin it needs; Pelican stops with this message."""


def require_plugins(settings: Mapping[str, Any], plugin: str, *needed: str) -> None:
    """Stop the build at start-up, with one clear message, if a needed plugin is missing."""
    missing = [name for name in needed if not plugin_enabled(settings, name)]
    if missing:
        raise PluginDependencyError(
            f"{plugin}: needs the {' and '.join(missing)} plugin{'s' if len(missing) > 1 else ''}; "
            f"add {', '.join(map(repr, missing))} to PLUGINS in pelicanconf.py, or remove "
            f"{plugin!r}")
