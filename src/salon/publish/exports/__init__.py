"""Exports: the archive's records and tables in the forms other tools read.

- ``export_raw``: every raw record, byte-identical (``salon export raw``);
- ``export_csv`` / ``export_xlsx``: posts as a table, default or twarc-csv layout (``salon export csv``);
- ``export_network``: interaction and hashtag networks as GEXF, GraphML or Gephi CSVs;
- ``export_ids``: post ids and URIs per platform, for re-hydration.

Which posts: ``Filters`` (campaign, dates, platforms), resolved by ``selection``.
"""

from salon.publish.exports.posts import ExportResult, export_csv, export_xlsx
from salon.publish.exports.raw import export_raw, iter_raw
from salon.publish.exports.select import Filters, selection

__all__ = ["ExportResult", "Filters", "export_csv", "export_raw", "export_xlsx", "iter_raw", "selection"]
