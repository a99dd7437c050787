"""The datasets' pages: anyone signed in reads a dataset's names, whose data it holds and
the labels its Nations attached; a Nation's representatives attach and remove its own
(portal/workflow/labels.py asks the policy: `label_datasets`)."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import Session

from portal.datasets.forms import LabelForm, RemoveLabelForm
from portal.db import get_session
from portal.errors import ValidationError
from portal.registry.labels import LABELS, labels_of
from portal.registry.models import Dataset
from portal.registry.service import get_dataset, get_nation, list_datasets, nations_of
from portal.workflow import labels

bp = Blueprint("datasets", __name__, url_prefix="/datasets")


@bp.route("")
@login_required
def index():
    session = get_session()
    rows = list_datasets(session)
    attached = labels_of(session, [d.id for d, _nations in rows])
    return render_template("datasets/index.html", rows=rows, attached=attached)


def _page(session: Session, dataset: Dataset, forms: dict[str, LabelForm] | None = None):
    forms = forms or {}
    nations = labels.labelling_nations(session, current_user, dataset)
    for nation in nations:
        forms.setdefault(nation.slug, LabelForm(prefix=nation.slug, formdata=None))
    has_errors = any(field.errors for form in forms.values() for field in form)
    html = render_template(
        "datasets/show.html",
        dataset=dataset,
        nations=nations_of(session, dataset),
        labelling=nations,
        forms=forms,
        remove_form=RemoveLabelForm(),
        attached=labels_of(session, [dataset.id])[dataset.id],
    )
    return html, 422 if has_errors else 200


@bp.route("/<dataset_slug>")
@login_required
def show(dataset_slug: str):
    session = get_session()
    return _page(session, get_dataset(session, dataset_slug))


@bp.route("/<dataset_slug>/labels/<nation_slug>", methods=["POST"])
@login_required
def attach(dataset_slug: str, nation_slug: str):
    session = get_session()
    dataset, nation = get_dataset(session, dataset_slug), get_nation(session, nation_slug)
    labels.require_labelling(session, current_user, dataset, nation)
    form = LabelForm(prefix=nation.slug)
    if form.validate_on_submit():
        try:
            _row, changed = labels.attach_label(
                session,
                current_user,
                dataset,
                nation,
                code=form.code.data or "",
                wording=form.wording.data or "",
                hub_url=form.hub_url.data or "",
            )
        except ValidationError as error:
            for name, message in error.errors.items():
                form[name].errors = [*form[name].errors, message]
        else:
            name = LABELS[form.code.data].shown_name
            flash(
                _("%(label)s saved for %(nation)s.", label=name, nation=nation.name)
                if changed
                else _("Nothing changed."),
                "success",
            )
            return redirect(
                url_for("datasets.show", dataset_slug=dataset.slug, _anchor="labels-heading")
            )
    return _page(session, dataset, {nation.slug: form})


@bp.route("/<dataset_slug>/labels/<nation_slug>/<code>/remove", methods=["POST"])
@login_required
def remove(dataset_slug: str, nation_slug: str, code: str):
    session = get_session()
    dataset, nation = get_dataset(session, dataset_slug), get_nation(session, nation_slug)
    labels.remove_label(session, current_user, dataset, nation, code)  # CSRF: CSRFProtect
    name = LABELS[code].shown_name
    flash(_("%(label)s removed for %(nation)s.", label=name, nation=nation.name), "success")
    return redirect(url_for("datasets.show", dataset_slug=dataset.slug, _anchor="labels-heading"))
