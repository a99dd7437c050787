"""The language of the agreement through the API (issue 13, part 2): an optional field of
a request's body, checked, kept with each revision and shown in the request's JSON."""

from apis import problem
from flows import COMPLETE


def test_the_api_takes_and_shows_the_language_of_the_agreement(api):
    created = api.post("researcher", "/requests", json={"title": "Asked in French"})
    assert created.status_code == 201
    ref = created.get_json()["ref"]
    assert created.get_json()["agreement_language"] == "en", "English unless asked"

    french = api.patch("researcher", f"/requests/{ref}", json={"agreement_language": "fr"})
    assert french.status_code == 200 and french.get_json()["agreement_language"] == "fr"
    # Sent alone, another field leaves it as it was.
    kept = api.patch("researcher", f"/requests/{ref}", json={"purpose": "Kept."})
    assert kept.get_json()["agreement_language"] == "fr"

    both = api.post("researcher", "/requests", json={**COMPLETE, "agreement_language": "both"})
    assert both.status_code == 201 and both.get_json()["agreement_language"] == "both"
    submitted = api.act("researcher", both.get_json()["ref"], "submit").get_json()
    assert submitted["status"] == "screening" and submitted["agreement_language"] == "both"


def test_a_language_it_does_not_know_is_refused_by_name(api):
    ref = api.post("researcher", "/requests", json={"title": "x"}).get_json()["ref"]
    for method, path, language in (
        ("POST", "/requests", "de"),
        ("PATCH", f"/requests/{ref}", "FR"),
        ("POST", "/requests", None),
    ):
        body = {"title": "y", "agreement_language": language}
        found = problem(api.call("researcher", method, path, json=body), 422)
        [error] = found["errors"]
        assert error["field"] == "agreement_language", found
        assert "'en'" in error["message"] and "'both'" in error["message"], error
    assert api.get("researcher", f"/requests/{ref}").get_json()["agreement_language"] == "en"
