"""Build benchmark: adviesblog against plain Pelican on one generated corpus."""
