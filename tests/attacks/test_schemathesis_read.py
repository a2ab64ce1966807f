"""Schemathesis fuzzes the live server with a read token against the suite's stack: no server error, and no status
the schema does not document (the full-scope run is test_schemathesis_full.py).

A read token reaches the logic of the reads; most writes answer it 403 before looking at the request (45 of 71 gave
nothing else on 7 December). So the reads get the thorough run (coverage and fuzzing), and
the writes a light one (2 fuzzed cases each), enough to show each answers a read token without a server error and
with a documented status; the full-scope run (test_schemathesis_full.py) fuzzes every write's logic thoroughly. All
of them thoroughly was 3,500 cases, 100-160 s; now about 1,300 cases, 25 s."""

import pytest

from accounts.models import APIToken
from accounts.services.tokens import api_token_create
from tests.attacks.schemathesis_run import LIGHT, fuzz

pytestmark = [pytest.mark.stack, pytest.mark.docker]


def test_a_read_token_finds_no_server_error_and_no_undocumented_status(
    live_stack, admin_user, tmp_path, transactional_db
):
    raw = api_token_create(user=admin_user, name="fuzz", scope=APIToken.Scope.READ)[1]
    fuzz(live_stack.url, raw, tmp_path / "reads", "read", "--include-method", "GET")
    fuzz(live_stack.url, raw, tmp_path / "writes", "read-writes", "--exclude-method", "GET", effort=LIGHT)
