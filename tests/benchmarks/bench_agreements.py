"""Benchmark: an agreement's render plus its three signatures, against a warm one-page
"hello" render by WeasyPrint in the same process (goal: at most 12x).

Times are CPU seconds of this process (time.process_time), not wall time: the machine
is shared, and other processes' load would otherwise swing the ratios by a third.

Run on demand (pytest does not collect bench_*.py):

    python tests/benchmarks/bench_agreements.py [--rounds N]

It prints the figures BENCHMARKS.md quotes ("## Agreements"). The agreement is the
two-Nation one the tests sign: the real template, fonts, CA and signing code.
"""

import argparse
import io
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from pypdf import PdfReader
from weasyprint import HTML

from portal.agreements import appearance, ca, render, signing
from portal.agreements.clauses import STANDARD_CLAUSES
from portal.agreements.layout import EmbeddedFile
from portal.agreements.settings import AgreementSettings

DOCUMENT = {
    "ref": "R-BENC-H001",
    "title": "Wellbeing of children in care (fictional)",
    "purpose": "Describe how children in care are supported.",
    "ethics_approval": "University REB #2026-123 (fictional)",
    "revision": 1,
    "reading_copy": False,
    "signed_language": "en",
    "issued_on": date(2026, 11, 21),  # the fields of tests/flows.py's COMPLETE request
    "term_start": date(2026, 11, 21),
    "term_end": date(2027, 11, 21),
    "term_days": 365,
    "storage_location": "CA-ON",
    "researcher": {"name": "Robin Researcher", "institution": "Collective (fictional)",
                   "email": "robin@example.org"},
    "team": [{"name": "Robin Researcher", "role": "PI", "email": "robin@example.org"}],
    "nations": [
        {"name": "Blue Heron Métis (fictional)", "framework": "OCAS",
         "representative": "ᓀᐦᐃᔭᐍᐏᐣ Representative", "conditions": [], "labels": []},
        {"name": "Red Cedar Nation (fictional)", "framework": "OCAP",
         "representative": "Riley Representative",
         "conditions": [{"code": "custom", "text": "Share results with the Elders first."},
                        {"code": "aggregate_only", "text": "Only aggregate results; cells "
                         "below 5 are suppressed.", "params": None}], "labels": []},
    ],
    "datasets": [{"title": "Cedar health", "custodian": "Health (fictional)",
                  "nations": ["Red Cedar Nation (fictional)"]},
                 {"title": "Heron schools", "custodian": "Schools (fictional)",
                  "nations": ["Blue Heron Métis (fictional)"]}],
    "output_review": ["Blue Heron Métis (fictional)", "Red Cedar Nation (fictional)"],
    "clauses": STANDARD_CLAUSES,
    "parties": [
        {"field": "Researcher", "nation": None, "signer": "Robin Researcher"},
        {"field": "Nation-blue-heron", "nation": "Blue Heron Métis (fictional)", "signer": None},
        {"field": "Nation-red-cedar", "nation": "Red Cedar Nation (fictional)", "signer": None},
    ],
}  # fmt: skip


def measure(actions: dict, rounds: int) -> dict[str, list[float]]:
    """Each action once to warm up, then ``rounds`` rounds of all of them in turn, so
    a busy shared machine slows every action alike; seconds per run."""
    for action in actions.values():
        action()
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(rounds):
        for name, action in actions.items():
            start = time.process_time()
            action()
            times[name].append(time.process_time() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    folder = Path(tempfile.mkdtemp())
    settings = AgreementSettings(instance_path=folder, secret="benchmark secret")
    authority = ca.authority(settings)
    credentials = []
    for name, title in [("Robin Researcher", "Researcher"), ("Riley R", "Representative")] * 2:
        key, certificate = ca.issue(authority, ca.signer_name(name, "Org", title, "a@example.org"))
        credentials.append(signing.Credential(key, certificate, authority.certificate))
    fields = [party["field"] for party in DOCUMENT["parties"]]

    def hello() -> bytes:
        return HTML(string="<p>Hello</p>").write_pdf()

    # As issue() renders it: the terms embedded (a file of their usual size) and an
    # empty signature field over each party's block, which each signature draws in.
    terms = EmbeddedFile("terms.jsonld", b"{}" * 1500, "application/ld+json", "terms")

    def render_only() -> bytes:
        pdf, boxes = render.render_for_signing(DOCUMENT, "en", terms)
        return appearance.add_fields(pdf, boxes)

    def sign_three(pdf: bytes) -> bytes:
        for field, credential in zip(fields, credentials, strict=False):
            pdf = signing.sign(pdf, field, credential, reason="benchmark", name="x")
        return pdf

    unsigned = render_only()

    def whole() -> bytes:
        return sign_three(render_only())

    figures = measure(
        {
            "hello render": hello,
            "agreement render": render_only,
            "three signatures": lambda: sign_three(unsigned),
            "render + three signatures": whole,
        },
        rounds,
    )
    pages = len(PdfReader(io.BytesIO(unsigned)).pages)
    print(f"rounds: {rounds}; agreement pages: {pages}; figures: best and median of the rounds")
    print(f"{'step':<28}{'best ms':>9}{'x hello':>9}{'median ms':>11}{'x hello':>9}")
    best_hello = min(figures["hello render"])
    median_hello = statistics.median(figures["hello render"])
    for name, times in figures.items():
        best, median = min(times), statistics.median(times)
        print(
            f"{name:<28}{best * 1000:>9.1f}{best / best_hello:>9.2f}"
            f"{median * 1000:>11.1f}{median / median_hello:>9.2f}"
        )
    # Each round times hello and the agreement one after the other, under the same
    # load: the median of the per-round ratios is the steadiest figure on a busy machine.
    per_round = [
        whole / base
        for whole, base in zip(
            figures["render + three signatures"], figures["hello render"], strict=True
        )
    ]
    ratio = statistics.median(per_round)
    verdict = "met" if ratio <= 12 else "NOT met"
    print(f"render + three signatures, median of per-round ratios: {ratio:.2f}x hello")
    print(f"goal (<= 12x a warm hello render): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
