"""Exports: the archive's records and tables in the forms other tools read."""

from salon.publish.exports.raw import export_raw, iter_raw

__all__ = ["export_raw", "iter_raw"]
