"""Experiments too long for a page: each module is a command line that writes results/<name>.json."""
