"""Helpers shared by adviesblog's plugins, importers and services (a library, not a plugin).

Each lives here once: settings with defaults (``settings``), atomic writes
(``files``), "Key: value" headers (``headers``), an article's identity and absolute
URLs (``identity``), links in HTML changed with a parser (``links``), what makes a
slug fit to name a folder (``slugs``), and the allow-list for HTML from readers plus
the removal of personal data (``sanitize``), and every article and page a
generator holds (``contents``).
A plugin never imports another plugin; what two plugins share comes from here.
"""
