"""Invariant 10 covers revocation too. Found in a probe: a representative of a Nation
who is on a request's team could revoke it for the Nation (refusing was refused them,
revoking was not): the request ended in the Nation's name by its own requesting side.
Now revoking is refused them like every other judgement (403, not_own_request); the
Nation's other representatives revoke as before."""

from apis import Api
from flows import COMPLETE

TEAM_REP = "rep2.cedar@example.org"


def test_a_representative_on_the_team_cannot_revoke_for_their_nation(app, flow, make_user):
    make_user(TEAM_REP, ("representative", "red-cedar"))
    team = [*COMPLETE["team"], {"name": "Rep Two", "email": TEAM_REP, "role": "Advisor"}]
    ref = flow.active(team=team)
    api = Api(app)
    offered = api.get(TEAM_REP, f"/requests/{ref}").get_json()["allowed_actions"]
    assert "revoke" not in {option["action"] for option in offered}
    refused = api.act(TEAM_REP, ref, "revoke", nation="red-cedar", reason="Mine to end.")
    assert refused.status_code == 403, refused.get_json()
    assert "not_own_request" in {rule["rule"] for rule in refused.get_json()["blocked_by"]}
    assert flow.status(ref) == "active"
    done = api.act("cedar_rep", ref, "revoke", nation="red-cedar", reason="Used beyond purpose.")
    assert done.status_code == 200 and flow.status(ref) == "revoked"
