"""Public pages: the transparency page (checkpoint, how to verify it, the report's numbers)."""

from __future__ import annotations

from starlette.responses import Response

from personae.errors import NotFound
from personae.web.charts import bar_chart
from personae.web.core import ViewerDep, page_router, render

router = page_router()


@router.get("/transparency")
def transparency(who: ViewerDep) -> Response:
    svc = who.svc.transparency
    try:
        checkpoint, report = svc.report(None, None)
    except NotFound:
        return render(
            who,
            "transparency.html",
            title="Transparency",
            checkpoint=None,
            report=None,
            charts=[],
            key=svc.public_key(),
            base=who.svc.settings.web_origin or who.svc.settings.issuer_url,
        )
    charts = [
        bar_chart("Moderation decisions by measure", report.moderation.by_measure),
        bar_chart("Moderation decisions by policy clause", report.moderation.by_clause),
        bar_chart("Appeal outcomes", report.appeals.by_outcome),
        bar_chart("Lawful requests by country", report.lawful_requests.by_country),
        bar_chart("Lawful requests by legal process", report.lawful_requests.by_process_type),
        bar_chart("Lawful request outcomes", report.lawful_requests.outcomes),
    ]
    recent = svc.recent(10)
    return render(
        who,
        "transparency.html",
        title="Transparency",
        checkpoint=checkpoint,
        report=report,
        charts=charts,
        key=svc.public_key(),
        recent=recent,
        base=who.svc.settings.web_origin or who.svc.settings.issuer_url,
    )
