"""Bring an old blog over: WordPress (WXR), Disqus and saved HTML pages → ``content/``.

Not a Pelican plugin: the invoke tasks ``import-wordpress``, ``import-disqus`` and
``import-html`` call it. Every importer shares one store (idempotent writes, the
state file) and one report.
"""

from .disqus import import_disqus
from .saved_pages import import_saved_pages
from .store import Report
from .wordpress import import_wordpress
from .xmlstream import SourceError

__all__ = ["Report", "SourceError", "import_disqus", "import_saved_pages", "import_wordpress"]
