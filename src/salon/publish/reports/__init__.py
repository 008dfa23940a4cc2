"""Reports: the campaign report (``write_report``: report.html + report.pdf) and one report per
registered institution (``write_institution_reports``). Figures come from ``salon.campaigns``."""

from salon.publish.reports.campaign import render, report_data, write_report
from salon.publish.reports.institutions import write_institution_reports

__all__ = ["render", "report_data", "write_institution_reports", "write_report"]
