"""Contract test, seeded district: every real form of every /ws/v1 resource appears somewhere.

One capture shows one record; real data varies: a staff member's school_affiliation is a list
for most staff and an object for some, `addresses` an object or `""`, `local_id` a number or a
string. The per-capture test accepts any real form for one record, so this test asks the other
question: across a whole seeded district (every student, staff member, school, section, term
and course with every expansion), does the simulator show every key and every JSON type that
the corpus shows for that resource? Each gap is one case; the known ones are listed in
EXPECTED_FORM_GAPS with the reason and are xfail(strict=True), so closing a gap forces the
entry's removal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from capture_evidence import Evidence
from test_capture_simulator import CAPTURES, SIM_REQUESTS, answer_kind

from acme_powerschool.testing import Simulator

_STUDENT = "demographics,addresses,alerts,phones,school_enrollment,ethnicity_race,contact,contact_info,initial_enrollment,schedule_setup,fees,lunch"
DISTRICT_READS = [
    ("/ws/v1/metadata", {}),
    ("/ws/v1/district", {}),
    (
        "/ws/v1/district/school",
        {"expansions": "school_boundary,full_time_equivalencies,school_fees_setup"},
    ),
    (
        "/ws/v1/district/student",
        {"expansions": _STUDENT, "extensions": "u_studentsuserfields", "pagesize": "100"},
    ),
    ("/ws/v1/student/2", {"expansions": _STUDENT, "extensions": "u_studentsuserfields"}),
    ("/ws/v1/staff/1", {"expansions": "addresses,emails,phones,school_affiliations"}),
    ("/ws/v1/section_enrollment/101", {}),
]
PER_SCHOOL = [
    ("staff", {"expansions": "addresses,emails,phones,school_affiliations", "pagesize": "100"}),
    ("section", {"pagesize": "100"}),
    ("term", {"pagesize": "100"}),
    ("course", {"pagesize": "100"}),
]
SCHOOLS = (100, 600, 700)


def corpus_v1() -> Evidence:
    """What the captures of /ws/v1 reads show (placeholders under `elided` left out)."""
    evidence = Evidence()
    for name, capture in CAPTURES.items():
        if answer_kind(capture) == "v1":
            evidence.add("v1", capture.body, SIM_REQUESTS[name].wildcard, capture.elided)
    return evidence


def district_v1(sim: Simulator) -> Evidence:
    """What the seeded district shows over every /ws/v1 read, with every expansion."""
    evidence = Evidence()
    session = requests.Session()
    session.headers.update(
        {"Accept": "application/json", "Authorization": f"Bearer {sim.issue_token()}"}
    )
    reads = list(DISTRICT_READS)
    reads += [(f"/ws/v1/school/{s}/{what}", q) for s in SCHOOLS for what, q in PER_SCHOOL]
    for path, query in reads:
        r = session.get(sim.base_url + path, params=query, timeout=30)
        assert r.status_code == 200, (path, r.status_code)
        evidence.add("v1", r.json())
    session.close()
    return evidence


def gaps(real: Evidence, seeded: Evidence) -> dict[str, str]:
    """Resource path -> what the corpus shows there that the seeded district never does.

    A path under a gap that explains it (a key never sent, a list form never shown) is left out.
    """
    found: dict[str, str] = {}
    covered: list[str] = []  # prefixes whose insides a gap above already explains
    for (_, path), types in sorted(real.types.items()):
        if not path or any(path.startswith(c) for c in covered):
            continue
        mine = seeded.types.get(("v1", path), set())
        missing = types - mine
        if not missing:
            continue
        if not mine:
            covered += [path + ".", path + "[]"]
        elif "array" in missing:
            covered.append(path + "[]")
        shown = f" (only {'|'.join(sorted(mine))})" if mine else " (never sent)"
        found[path] = f"never {'|'.join(sorted(missing))}{shown}"
    return found


# Resource path -> why the seeded district lacks a real form today (xfail, strict).
EXPECTED_FORM_GAPS: dict[str, str] = {}

REAL = corpus_v1()


@pytest.fixture(scope="module")
def seeded() -> Iterator[Evidence]:
    with Simulator(students=120, seed=1) as sim:
        yield district_v1(sim)


def _cases() -> list[Any]:
    with Simulator(students=120, seed=1) as sim:
        found = gaps(REAL, district_v1(sim))
    return [
        pytest.param(
            path,
            id=path,
            marks=[pytest.mark.xfail(reason=EXPECTED_FORM_GAPS[path], strict=True)]
            if path in EXPECTED_FORM_GAPS
            else [],
        )
        for path in sorted(set(found) | set(EXPECTED_FORM_GAPS))
    ]


@pytest.mark.parametrize("path", _cases())
def test_the_seeded_district_shows_every_real_form(path: str, seeded: Evidence) -> None:
    found = gaps(REAL, seeded)
    if path in found:
        pytest.fail(f"{path}: {found[path]}")
