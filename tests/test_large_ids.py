"""A number beyond a database integer names no row: the answer is 404 (or a refusal),
never a 500 (found in a probe: output 2**63 raised OverflowError on the output page, its
file and the API's review_output; the drivers refuse such a number, SQLite with
OverflowError and PostgreSQL with DataError)."""

import re

from helpers import csrf_token, sign_in

HUGE = (2**31, 2**63, 10**20)
PEOPLE = ("researcher", "coordinator", "admin", "cedar_steward1", "cedar_rep")


def test_every_page_with_a_number_in_its_path_answers_a_huge_one(app, flow):
    from flows import PEOPLE as EMAILS

    ref = flow.active()
    clients = {}
    for who in PEOPLE:
        client = app.test_client()
        assert sign_in(client, EMAILS[who][0]).status_code == 302
        clients[who] = (client, csrf_token(client.get("/account").get_data(as_text=True)))
    fixed = {"ref": ref, "slug": "red-cedar", "nation_slug": "red-cedar"}
    broken = []
    for rule in app.url_map.iter_rules():
        numbers = re.findall(r"<int:(\w+)>", rule.rule)
        if not numbers:
            continue
        for huge in HUGE:
            path = rule.rule
            for name in rule.arguments:
                value = huge if name in numbers else fixed[name]
                path = re.sub(rf"<(?:\w+:)?{name}>", str(value), path)
            for method in sorted(rule.methods & {"GET", "POST"}):
                for who, (client, token) in clients.items():
                    answer = client.open(path, method=method, headers={"X-CSRFToken": token})
                    if answer.status_code >= 500:
                        broken.append(f"{method} {path} as {who}: {answer.status_code}")
    assert not broken, "\n".join(broken)


def test_the_api_answers_a_huge_id_without_breaking(app, flow):
    from apis import Api

    api = Api(app)
    ref = flow.active()
    broken = []
    for huge in HUGE:
        calls = [
            ("researcher", "GET", f"/requests/{ref}/outputs/{huge}/file", None),
            ("researcher", "GET", f"/requests/{ref}/obligations/{huge}/file", None),
            ("coordinator", "GET", f"/deliveries/{huge}", None),
            ("coordinator", "POST", f"/deliveries/{huge}/retry", None),
            ("cedar_rep", "GET", f"/rules/proposals/{huge}", None),
        ]
        action = f"/requests/{ref}/actions/"
        nation = {"nation": "red-cedar"}
        calls += [
            (
                "cedar_steward1",
                "POST",
                action + "review_output",
                {"output": huge, "recommendation": "approve", **nation},
            ),
            (
                "cedar_rep",
                "POST",
                action + "decide_output",
                {"output": huge, "outcome": "approve", **nation},
            ),
            (
                "cedar_rep",
                "POST",
                action + "assess_obligation",
                {"obligation": huge, "outcome": "met"},
            ),
            (
                "researcher",
                "POST",
                action + "report_obligation",
                {"obligation": huge, "text": "Done"},
            ),
        ]
        for who, method, path, body in calls:
            answer = api.call(who, method, path, json=body)
            if answer.status_code >= 500:
                broken.append(f"{method} {path} {body} as {who}: {answer.status_code}")
    assert not broken, "\n".join(broken)
