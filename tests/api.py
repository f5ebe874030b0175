"""The original product's live suite for the REST client.

    python tests/api.py --base_url=HOST --client_id=ID --client_secret=SECRET [--access_token=T]

runs these unittest cases against a real PowerSchool server (they read student 2 and the
school list, update student 2's email and put it back, and run the seed's PowerQuery). With no
arguments they run against the embedded simulator on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import unittest
import warnings
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import acme_powerschool

SERVER: dict[str, Any] = {}


class ApiTests(unittest.TestCase):
    ps: ClassVar[acme_powerschool.api]

    @classmethod
    def setUpClass(cls) -> None:
        cls.ps = acme_powerschool.api(
            SERVER["base_url"],
            client_id=SERVER["client_id"],
            client_secret=SERVER["client_secret"],
        )

    def test_student_2(self) -> None:
        response = self.ps.get("ws/v1/student/2")
        self.assertEqual(response.status_code, 200)
        student = response.json()["student"]
        self.assertEqual(student["id"], 2)
        self.assertIn("@expansions", student)

    def test_contact_info_expansion(self) -> None:
        student = self.ps.get("ws/v1/student/2?expansions=contact_info").json()["student"]
        self.assertIn("contact_info", student)

    def test_update_email_and_verify(self) -> None:
        def email() -> Any:
            info = self.ps.get("/ws/v1/student/2", params={"expansions": "contact_info"})
            block = info.json()["student"].get("contact_info")
            return block.get("email") if isinstance(block, dict) else None

        def update(address: Any) -> Any:
            body = {
                "students": {
                    "student": [
                        {
                            "id": "2",
                            "client_uid": "2",
                            "action": "UPDATE",
                            "contact_info": {"email": address},
                        }
                    ]
                }
            }
            return self.ps.post("ws/v1/student", data=json.dumps(body)).json()

        original = email()
        try:
            result = update("foo@bar.com")["results"]
            self.assertEqual(result["update_count"], 1)
            self.assertEqual(result["result"]["status"], "SUCCESS")
            self.assertEqual(email(), "foo@bar.com")
        finally:
            update(
                original or ""
            )  # put back what was there ("" clears it, as PowerSchool reads it)

    def test_schools_json_then_xml(self) -> None:
        as_json = self.ps.get("ws/v1/district/school")
        self.assertEqual(as_json.status_code, 200)
        self.assertIn("schools", as_json.json())
        as_xml = self.ps.get("ws/v1/district/school", headers={"Accept": "application/xml"})
        self.assertEqual(as_xml.status_code, 200)
        self.assertIn("<schools", as_xml.text)

    def test_session_header_switches_to_xml(self) -> None:
        ps = acme_powerschool.api(
            SERVER["base_url"],
            client_id=SERVER["client_id"],
            client_secret=SERVER["client_secret"],
        )
        ps.session.headers["Accept"] = "application/xml"
        self.assertIn("<schools", ps.get("ws/v1/district/school").text)

    def test_403_access_requests(self) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            response = self.ps.post(
                "ws/schema/query/com.pearson.core.attendance.daily_attendance_template",
                data='{"studentid": "2"}',
            )
        if response.status_code != 403:
            self.skipTest("this plugin has access to attendance.studentid")
        self.assertIn(
            '<field table="attendance" field="studentid" access="ViewOnly" />',
            response.access_requests,  # type: ignore[attr-defined]
        )
        self.assertTrue(
            any(issubclass(w.category, acme_powerschool.PowerSchoolWarning) for w in caught)
        )

    def test_given_access_token(self) -> None:
        token = SERVER.get("access_token") or self.ps._obtain_access_token()
        ps = acme_powerschool.api(SERVER["base_url"], access_token=token)
        self.assertEqual(ps.get("ws/v1/district").status_code, 200)

    def test_bad_credentials_raise_runtime_error(self) -> None:
        ps = acme_powerschool.api(
            SERVER["base_url"], client_id="not-a-client", client_secret="not-a-secret"
        )
        with self.assertRaises(RuntimeError):
            ps.get("ws/v1/district")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base_url")
    parser.add_argument("--client_id")
    parser.add_argument("--client_secret")
    parser.add_argument("--access_token")
    args, rest = parser.parse_known_args()
    if args.base_url:
        SERVER.update(vars(args))
        program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
        return 0 if program.result.wasSuccessful() else 1
    from acme_powerschool.testing import Simulator

    with Simulator(students=50, seed=1) as sim:
        SERVER.update(
            base_url=sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
        )
        print(f"no --base_url given: running against the simulator at {sim.base_url}")
        program = unittest.main(argv=[sys.argv[0], *rest], exit=False)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
