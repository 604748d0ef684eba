"""A Markdown extension that ends the worker process converting a text with "STERF".

Only in a worker: Pelican's own process converts the same text unharmed, as it does
every file a dead worker left.
"""

import multiprocessing
import os

from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor


class DieInWorker(Preprocessor):
    def run(self, lines):
        if multiprocessing.parent_process() is not None and any("STERF" in line for line in lines):
            os._exit(9)
        return lines


class DyingExtension(Extension):
    def extendMarkdown(self, md):
        md.preprocessors.register(DieInWorker(md), "die_in_worker", 0)


def makeExtension(**options):
    return DyingExtension(**options)
