"""Where compiled Jinja templates are kept between builds."""

import hashlib
import json
from pathlib import Path

import jinja2


def jinja_cache_folder(root: Path, options: dict, autoescape: str) -> Path:
    """A folder under ``root`` named after what shapes the compiled code, made if missing.

    Jinja keys its bytecode by template and source only, so templates compiled with
    other options (``trim_blocks``, extensions, autoescaping) must not share a folder.
    ``autoescape`` names the autoescape rule, which is a function and has no stable form.
    """
    shaping = {key: options.get(key) for key in ("trim_blocks", "lstrip_blocks", "extensions")}
    shaping.update(jinja=jinja2.__version__, autoescape=autoescape)
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode()).hexdigest()
    folder = Path(root) / f"jinja-{digest[:12]}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
