"""Pages of the transparency record: a Nation's record (page, CSV, PDF) and the
coordinators' dashboard. A request's timeline page is in portal/requests/routes.py."""

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.charts import bar_chart
from portal.db import get_session, writes
from portal.errors import ValidationError
from portal.pdf import html_to_pdf
from portal.policy.service import require
from portal.policy.vocabulary import Action
from portal.registry.models import Nation
from portal.registry.service import get_nation
from portal.transparency import exports, figures, record
from portal.transparency.dashboard import DEFAULT_WINDOW, WINDOWS, dashboard
from portal.transparency.stages import format_duration
from portal.validation import event_cursor
from portal.web import error_page

bp = Blueprint("transparency", __name__)


def _readable_nation(slug: str) -> Nation:
    """The Nation, if the signed-in person may read its record: 404 if there is no such
    Nation, 403 if they may not (Nations are public in the registry)."""
    session = get_session()
    nation = get_nation(session, slug)
    require(session, current_user, Action.VIEW_RECORD, nation=nation)
    return nation


@bp.route("/nations/<slug>/record")
@login_required
def nation_record(slug: str):
    nation = _readable_nation(slug)
    session = get_session()
    try:
        after = request.args.get("after") or None
        requests = record.request_page(
            session, nation, after, record.REQUESTS_PAGE, reader=current_user
        )
        before = event_cursor("events_before", request.args.get("events_before"))
        events = record.event_page(session, nation, before, reader=current_user)
    except ValidationError as error:
        return error_page(400, error.message)
    late = record.overdue_obligations(session, nation, current_user)
    return render_template(
        "transparency/record.html", nation=nation, requests=requests, events=events, late=late
    )


@bp.route("/nations/<slug>/record.csv")
@login_required
@writes  # each download is an audit event
def nation_record_csv(slug: str):
    nation = _readable_nation(slug)
    document = exports.export_record(get_session(), current_user, nation, "csv")
    # With a byte-order mark, spreadsheets read the file as UTF-8 (Métis, not MÃ©tis).
    body = "\ufeff" + exports.csv_text(document)
    # The mimetype alone: the response adds "; charset=utf-8" to text types itself.
    return _download(body.encode(), "text/csv", nation, document, "csv")


@bp.route("/nations/<slug>/record.pdf")
@login_required
@writes  # each download is an audit event
def nation_record_pdf(slug: str):
    nation = _readable_nation(slug)
    document = exports.export_record(get_session(), current_user, nation, "pdf")
    html = render_template(
        "transparency/record_pdf.html",
        document=document,
        review_text=exports.review_text,
        decision_text=exports.decision_text,
    )
    return _download(html_to_pdf(html), "application/pdf", nation, document, "pdf")


def _download(body: bytes, mimetype: str, nation: Nation, document, suffix: str) -> Response:
    name = f"{nation.slug}-record-{document.generated_at:%Y-%m-%d}.{suffix}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"  # the Nation's record stays off shared caches
    return response


@bp.route("/dashboard")
@login_required
def coordinator_dashboard():
    window = request.args.get("window", str(DEFAULT_WINDOW))
    days = int(window) if window in {str(days) for days in WINDOWS} else 0  # 0: refused below
    try:
        view = dashboard(get_session(), current_user, days)
    except ValidationError as error:
        return error_page(400, error.message)
    except figures.NotReady:  # a worker that just started is counting them
        page, status = error_page(
            503,
            _(
                "The dashboard's figures are being counted: this part of the portal has "
                "just started. Try again in a minute."
            ),
        )
        return page, status, {"Retry-After": "30"}
    status_chart = bar_chart(
        _("Requests by status"),
        [(status.label, [(count, str(count))]) for status, count in view.by_status],
        [("count", _("Requests"))],
    )
    timed = [summary for summary in view.stages if summary.samples]
    stage_chart = bar_chart(
        _("Time spent in each stage"),
        [
            (
                summary.stage.name,
                [
                    (summary.median, format_duration(summary.median)),
                    (summary.p90, format_duration(summary.p90)),
                ],
            )
            for summary in timed
        ],
        [("median", _("Median")), ("p90", _("90th percentile"))],
    )
    return render_template(
        "transparency/dashboard.html",
        view=view,
        windows=WINDOWS,
        status_chart=status_chart,
        stage_chart=stage_chart if timed else None,
        duration=format_duration,
    )
