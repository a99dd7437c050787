"""A Nation added to a dataset after the requests using it ended was never asked about
them: it does not read them (found in a probe: its stewards read every old request of the
dataset, on its pages, in the API and in its record, because whose data a request touched
was read from the dataset's Nations as they stand now). The Nations that were asked keep
reading them, and a request submitted after the change asks the added Nation too."""

from portal.db import session_scope
from portal.registry import service as registry
from portal.transparency.dashboard import dashboard

from apis import Api
from helpers import sign_in

CEDAR_ONLY = {"datasets": ["cedar-health"]}


def add_heron_to_cedar_health(app) -> None:
    with app.app_context(), session_scope() as session:
        dataset = registry.get_dataset(session, "cedar-health")
        registry.update_dataset(
            session,
            dataset,
            title=dataset.title,
            custodian=dataset.custodian,
            description=dataset.description,
            nation_slugs=["red-cedar", "blue-heron"],
        )


def test_a_nation_added_to_a_dataset_later_never_reads_the_requests_it_was_not_asked_about(
    app, flow
):
    reviewed = flow.to_review(**CEDAR_ONLY)  # Red Cedar was asked, then it was withdrawn
    flow.do("researcher", "withdraw", reviewed)
    screened = flow.draft(**CEDAR_ONLY)  # withdrawn while screened: Red Cedar saw it
    flow.do("researcher", "submit", screened)
    flow.do("researcher", "withdraw", screened)
    later = flow.draft(**CEDAR_ONLY)  # submitted once Blue Heron's data is known
    add_heron_to_cedar_health(app)
    flow.do("researcher", "submit", later)
    flow.do("coordinator", "screen", later)

    api = Api(app)
    pages = {}
    for who, email in (
        ("heron_rep", "rep.heron@example.org"),
        ("cedar_rep", "rep.cedar@example.org"),
    ):
        pages[who] = app.test_client()
        assert sign_in(pages[who], email).status_code == 302
    old = (reviewed, screened)
    for ref in old:
        assert pages["heron_rep"].get(f"/requests/{ref}").status_code == 404
        assert pages["heron_rep"].get(f"/requests/{ref}/timeline").status_code == 404
        assert api.get("heron_rep", f"/requests/{ref}").status_code == 404
        assert api.get("heron_steward", f"/requests/{ref}/events").status_code == 404
        assert pages["cedar_rep"].get(f"/requests/{ref}").status_code == 200
        assert api.get("cedar_steward1", f"/requests/{ref}").status_code == 200
    listed = {item["ref"] for item in api.get("heron_steward", "/requests").get_json()["items"]}
    assert listed == {later}
    home = pages["heron_rep"].get("/").get_data(as_text=True)
    record = pages["heron_rep"].get("/nations/blue-heron/record").get_data(as_text=True)
    for ref in old:
        assert ref not in home and ref not in record
        assert ref in pages["cedar_rep"].get("/nations/red-cedar/record").get_data(as_text=True)
    assert later in record
    # Asked about the request submitted after the change, Blue Heron reads and reviews it.
    tracks = api.get("heron_rep", f"/requests/{later}").get_json()["tracks"]
    assert {track["nation"] for track in tracks} == {"red-cedar", "blue-heron"}
    # The coordinators' figures count each request under the Nations asked about it.
    with app.app_context(), session_scope() as session:
        view = dashboard(session, flow.user(session, "coordinator"), 365)
        totals = {row.nation.slug: row.total for row in view.nations}
    assert totals == {"red-cedar": 3, "blue-heron": 1}
