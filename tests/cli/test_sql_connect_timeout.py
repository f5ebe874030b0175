"""`acme-powerschool sql` against a port that accepts and never answers (issue 11 item 8): one
clear `error:` line after the connect deadline, not a hang. The real odbc() and the real
thin driver run against a silent listener on 127.0.0.1; only the deadline is shortened."""

from __future__ import annotations

import functools
from typing import Any

from acme_powerschool.cli.common import CliState
from acme_powerschool.shell.oracle import odbc
from tests.cli.conftest import Cli, one_error_line
from tests.oracle.oracle_fake_tns import SilentListener, run_with_deadline


def test_sql_reports_a_silent_listener_as_a_timeout(run: Cli, file_keyring: Any) -> None:
    file_keyring.set_password("127.0.0.1", "reader", "stored-password")
    run.secrets.append("stored-password")
    state = CliState(oracle_connect=functools.partial(odbc, connect_timeout=0.5))
    with SilentListener() as listener:
        args = ["sql", "select 1 from dual", "--server", "127.0.0.1", "--user", "reader"]
        result = run_with_deadline(lambda: run([*args, "--port", str(listener.port)], obj=state))
        assert listener.accepted == 1
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "did not complete the Oracle login within 0.5 seconds" in line
