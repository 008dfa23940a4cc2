"""``salon report CAMPAIGN -o DIR``: a thin Typer command over ``salon.publish.reports``."""

from __future__ import annotations

from typing import Annotated

import typer

from salon.commands.common import ArchiveOpt, err, open_archive_or_fail
from salon.commands.common import fail as _fail

__all__ = ["report_cmd"]


def report_cmd(
    campaign: Annotated[
        str, typer.Argument(help="A stored campaign's slug, a campaign file, or a stored chat's slug.")
    ],
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder (created).")],
    archive: ArchiveOpt = None,
    institution: Annotated[
        list[str] | None,
        typer.Option(
            "--institution",
            "-i",
            help="A registered institution's name: its own report (repeat for several).",
        ),
    ] = None,
    all_institutions: Annotated[
        bool, typer.Option("--all-institutions", help="One report per registered institution, and an index.")
    ] = False,
    previous: Annotated[
        str | None,
        typer.Option(
            "--previous", help="The edition to compare with (default: the series' previous one, if stored)."
        ),
    ] = None,
    pdf: Annotated[
        bool | None,
        typer.Option(
            "--pdf/--no-pdf",
            help="Also write PDFs (default: yes for the campaign report, no per institution).",
        ),
    ] = None,
) -> None:
    """Write the campaign's report (report.html and report.pdf): the official tally, posts per
    day and theme, hour by day, platforms, languages, world map, tops, networks, comparison with
    the previous edition and a methods box. With --institution/--all-institutions: one report
    per registered institution instead. Given a chat's slug: the chat's report (figures, answers
    per question, who took part, the transcript)."""
    from salon.campaigns.tally import CampaignNotFound
    from salon.publish.reports import write_institution_reports, write_report

    arc = open_archive_or_fail(archive, read_only=True, fallback=True)
    try:
        from salon.campaigns.chat_store import chat_by_slug
        from salon.campaigns.stored import get_campaign

        chat = None if get_campaign(arc, campaign) is not None else chat_by_slug(arc, campaign)
        if chat is not None:
            if institution or all_institutions:
                _fail("--institution and --all-institutions are for a campaign, not a chat", 2)
            from salon.publish.reports.chat import write_chat_report

            res = write_chat_report(arc, chat, out, pdf=pdf is not False)
            err.print(f"chat report written: {', '.join(res['files'])}", highlight=False)
            return
        if institution or all_institutions:
            res = write_institution_reports(
                arc,
                campaign,
                out,
                names=None if all_institutions else list(institution or []),
                previous=previous,
                pdf=bool(pdf),
            )
            err.print(
                f"{res['reports']:,} institution reports in {out} (index: {res['index']})", highlight=False
            )
        else:
            from salon.collect.coverage import coverage

            cov = coverage(arc, campaign)
            res = write_report(arc, campaign, out, previous=previous, coverage=cov, pdf=pdf is not False)
            err.print(f"report written: {', '.join(res['files'])}", highlight=False)
    except (CampaignNotFound, ValueError) as exc:
        _fail(str(exc))
    finally:
        arc.close()
