"""Every operation of the API, in one table: the blueprint is registered from it and
the OpenAPI document is generated from it (CONTRACT.md §2)."""

from flask import Blueprint, current_app, request

from portal.api import PREFIX, actions, openapi, problems, views
from portal.api import bodies as b
from portal.api import schemas as s
from portal.api.endpoint import Endpoint

REQUEST = "/requests/{ref}"
ACTION_ERRORS = (403, 409)


def serve_openapi() -> dict:
    return openapi.document(ENDPOINTS)


ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/openapi.json", serve_openapi, "This document", None, public=True),
    Endpoint("GET", "/me", views.me, "Who the token belongs to, and their roles", s.MeOut),
    Endpoint(
        "GET", "/nations", views.list_nations, "Nations and their governance profiles",
        s.NationList, query=b.PageQuery,
    ),
    Endpoint(
        "GET", "/datasets", views.list_datasets, "Datasets and whose data they hold",
        s.DatasetList, query=b.PageQuery,
    ),
    Endpoint(
        "GET", "/requests", views.list_requests,
        "The requests you may see, most recently changed first", s.RequestList,
        query=b.RequestListQuery,
        description="Your own; those touching your Nations' data once submitted; all "
        "submitted ones for coordinators.",
    ),
    Endpoint(
        "POST", "/requests", views.create_request, "Create a draft (researchers)",
        s.RequestOut, status=201, body=b.DraftIn, errors=(403,),
    ),
    Endpoint("GET", REQUEST, views.get_request, "A request as you may see it", s.RequestOut),
    Endpoint(
        "PATCH", REQUEST, views.update_request,
        "Edit the fields sent (its researcher; draft or changes_requested)", s.RequestOut,
        body=b.DraftIn, errors=(403, 409),
    ),
    Endpoint(
        "GET", f"{REQUEST}/events", views.list_events, "Its audit events, oldest first",
        s.EventList, query=b.PageQuery,
    ),
    Endpoint(
        "POST", f"{REQUEST}/actions/submit", actions.submit,
        "Submit (its researcher): every field is required", s.RequestOut,
        body=b.SubmitIn, errors=ACTION_ERRORS,
    ),
    Endpoint(
        "POST", f"{REQUEST}/actions/withdraw", actions.withdraw, "Withdraw (its researcher)",
        s.RequestOut, body=b.WithdrawIn, errors=ACTION_ERRORS,
    ),
    Endpoint(
        "POST", f"{REQUEST}/actions/screen", actions.screen,
        "Screen (coordinators): accept for review, or return to the researcher",
        s.RequestOut, body=b.ScreenIn, errors=ACTION_ERRORS,
    ),
    Endpoint(
        "POST", f"{REQUEST}/actions/review", actions.review,
        "Review for your Nation (its designated stewards)", s.RequestOut,
        body=b.ReviewIn, errors=ACTION_ERRORS,
    ),
    Endpoint(
        "POST", f"{REQUEST}/actions/decide", actions.decide,
        "Approve with conditions, or refuse, for your Nation (its representative)",
        s.RequestOut, body=b.DecideIn, errors=ACTION_ERRORS,
        description="Approval needs the Nation's quorum and its other governance rules: "
        "409 names the rules that block it in blocked_by.",
    ),
    Endpoint(
        "POST", f"{REQUEST}/actions/revoke", actions.revoke,
        "Revoke for your Nation, at once (its representative)", s.RequestOut,
        body=b.RevokeIn, errors=ACTION_ERRORS,
    ),
]  # fmt: skip

ENDPOINTS += [
    Endpoint(
        "POST", f"{REQUEST}/actions/sign", actions.sign,
        "Sign the agreement (each party; re-enter your password)", s.RequestOut,
        body=b.SignIn, errors=ACTION_ERRORS,
    ),
    Endpoint(
        "GET", f"{REQUEST}/agreement.pdf", actions.agreement_pdf,
        "The current data-use agreement (the parties, the request's Nations, coordinators)",
        None, media_type="application/pdf",
        description="404 until every Nation approved and the agreement exists.",
    ),
]  # fmt: skip


def _limit_body() -> None:
    # The pages accept uploads up to MAX_CONTENT_LENGTH; the API's bodies are small.
    request.max_content_length = current_app.config["API_MAX_CONTENT_LENGTH"]


def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    return response


bp = Blueprint("api", __name__, url_prefix=PREFIX)
bp.before_request(_limit_body)
bp.after_request(_no_store)
problems.init_blueprint(bp)
for _endpoint in ENDPOINTS:
    bp.add_url_rule(_endpoint.rule, _endpoint.name, _endpoint.view(), methods=[_endpoint.method])
