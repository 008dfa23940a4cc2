"""Deprecated import path, kept for one release: use :mod:`salon.publish.exports`."""

from salon.publish.exports.raw import export_raw, iter_raw

__all__ = ["export_raw", "iter_raw"]
