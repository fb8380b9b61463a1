"""Shared pytest configuration for the project's own tests."""

import logging

# The access log is noise in test output; errors still show.
logging.getLogger("tornado.access").setLevel(logging.CRITICAL)
