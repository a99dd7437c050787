"""The delivery log of the custodians' notices: the coordinators read every one, each
Nation's stewards and representatives those about the datasets holding its data, and
they may send one again (portal/workflow/deliveries.py asks the policy)."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.auth.forms import ConfirmForm
from portal.db import get_session
from portal.errors import Refused
from portal.notify.models import DeliveryStatus
from portal.notify.webhooks import body_of
from portal.workflow import deliveries

bp = Blueprint("deliveries", __name__, url_prefix="/deliveries")


def _status_filter() -> DeliveryStatus | None:
    try:
        return DeliveryStatus(request.args.get("status", ""))
    except ValueError:
        return None  # no filter, or one that names no status: everything


@bp.route("")
@login_required
def index():
    status = _status_filter()
    rows = deliveries.deliveries(get_session(), current_user, status)
    return render_template(
        "deliveries/index.html", rows=rows, status=status, statuses=list(DeliveryStatus)
    )


@bp.route("/<delivery_id>")
@login_required
def show(delivery_id: str):
    row = deliveries.delivery(get_session(), current_user, delivery_id)
    return render_template(
        "deliveries/show.html", row=row, body=body_of(row.delivery), form=ConfirmForm()
    )


@bp.route("/<delivery_id>/retry", methods=["POST"])
@login_required
def retry(delivery_id: str):
    session = get_session()
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired; try again."), "error")
    else:
        try:
            deliveries.retry(session, current_user, delivery_id)
        except Refused as refusal:
            flash(refusal.message, "error")
        else:
            flash(_("The notice is queued again: it is sent within the minute."), "success")
    return redirect(url_for("deliveries.show", delivery_id=delivery_id))
