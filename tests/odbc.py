"""The live Oracle suite: acme_powerschool.odbc() against a real PowerSchool database.

Run by hand (pytest does not collect it): python tests/odbc.py --server=... --user=...
[--password=...] [--port=1521] [--db=psproddb] [--sid]. Without --server and --user it says
it was skipped and exits 0. Read-only: it runs SELECTs only.
"""

from __future__ import annotations

import argparse
import sys
import unittest
from typing import Any, ClassVar

import acme_powerschool

OPTIONS: dict[str, Any] = {}


class LiveOracleTest(unittest.TestCase):
    conn: ClassVar[Any]

    @classmethod
    def setUpClass(cls) -> None:
        cls.conn = acme_powerschool.odbc(**OPTIONS)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.conn.close()

    def test_select_one_from_dual(self) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute("select 1 from dual")
            self.assertEqual(cursor.fetchone(), (1,))

    def test_cursors_carry_the_reporting_tuning(self) -> None:
        with self.conn.cursor() as cursor:
            self.assertEqual((cursor.arraysize, cursor.prefetchrows), (1000, 1000))

    def test_context_manager_closes(self) -> None:
        with acme_powerschool.odbc(**OPTIONS) as conn:
            self.assertTrue(conn.is_healthy())
        self.assertFalse(conn.is_healthy())

    def test_schools_with_pandas_read_sql(self) -> None:
        import warnings

        import pandas as pd

        with warnings.catch_warnings():  # pandas warns about DBAPI connections other than sqlite
            warnings.simplefilter("ignore", UserWarning)
            df = pd.read_sql("select school_number, name from schools", self.conn)
        self.assertIn("SCHOOL_NUMBER", df.columns)
        self.assertGreater(len(df), 0)

    def test_schools_with_read_dataframe_and_binds(self) -> None:
        df = acme_powerschool.read_dataframe(
            self.conn,
            "select school_number, name from schools where school_number >= :low",
            {"low": 0},
        )
        self.assertEqual(list(df.columns), ["SCHOOL_NUMBER", "NAME"])
        self.assertGreater(len(df), 0)

    def test_schools_as_arrow(self) -> None:
        table = acme_powerschool.read_dataframe(
            self.conn, "select count(*) as n from schools", to="arrow"
        )
        self.assertEqual(table.column_names, ["N"])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server")
    parser.add_argument("--user")
    parser.add_argument("--password", help="omit to use the keyring (or be asked)")
    parser.add_argument("--port", default="1521")
    parser.add_argument("--db", default="psproddb", help="service name (or SID with --sid)")
    parser.add_argument("--sid", action="store_true", help="--db is a SID, not a service name")
    args, rest = parser.parse_known_args(argv)
    if not (args.server and args.user):
        print(
            "odbc.py: skipped, no database given. It needs a reachable PowerSchool Oracle "
            "database: python tests/odbc.py --server=HOST --user=USER [--password=...] "
            "[--port=1521] [--db=psproddb] [--sid]"
        )
        return 0
    OPTIONS.update(
        server=args.server,
        user=args.user,
        password=args.password,
        port=args.port,
        database=args.db,
        sid=args.sid or None,
    )
    program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2)
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
