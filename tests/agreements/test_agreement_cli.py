"""`portal agreements expire` and `portal agreements verify`."""

from portal.agreements import service as agreements
from portal.db import session_scope

from agreement_kit import flip, request_of


def test_expire_ends_only_finished_terms(app, runner, flow, signed):
    with app.app_context(), session_scope() as session:
        end = agreements.current(session, request_of(session, signed.ref)).term_end
    early = runner.invoke(args=["agreements", "expire", "--today", str(end.replace(day=1))])
    assert early.exit_code == 0 and "Expired 0 request(s)." in early.output
    assert flow.status(signed.ref) == "active"
    done = runner.invoke(args=["agreements", "expire", "--today", end.isoformat()])
    assert done.exit_code == 0, done.output
    assert f"Expired 1 request(s): {signed.ref}" in done.output
    assert flow.status(signed.ref) == "expired"


def test_verify_a_file(runner, signed, tmp_path):
    good = tmp_path / "good.pdf"
    good.write_bytes(signed.pdf)
    result = runner.invoke(args=["agreements", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert f"request {signed.ref}: active" in result.output
    assert result.output.count(" valid") == 3
    assert "issued by this portal: version 3" in result.output
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(flip(signed.pdf, len(signed.pdf) // 2))
    result = runner.invoke(args=["agreements", "verify", str(bad)])
    assert result.exit_code == 1
    assert "INVALID" in result.output
    assert "not an unaltered agreement issued by this portal" in result.output
