"""Publish settings: absolute URLs, no drafts in the output, a clean output folder.

`invoke publish` runs Pelican with ``--fatal errors``, so any content error stops it.
"""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from pelicanconf import *  # noqa: E402,F403

# The Pages workflows set ADVIESBLOG_SITEURL to the Pages address (README, "Deploy").
SITEURL = os.environ.get("ADVIESBLOG_SITEURL", "https://www.ruimte-en-richting.example").rstrip("/")
RELATIVE_URLS = False
FEED_DOMAIN = SITEURL
DELETE_OUTPUT_DIRECTORY = True

# Drafts and future-dated articles stay out of the published site entirely.
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
