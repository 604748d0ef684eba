"""Loggers for the service that keep every record.

Once Pelican is imported (the service reads its settings with it), every new logger
is Pelican's ``LimitLogger``, which drops a message it has logged before. That suits
a build's warnings; a service's log is its record of every refusal and failure.
"""

import logging


def service_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    disable_filter = getattr(logger, "disable_filter", None)
    if disable_filter is not None:
        disable_filter()
    return logger
