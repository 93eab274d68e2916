"""psql variables holding any value (tools/localrun/postgres_server.py), as a password may."""

from __future__ import annotations

from postgres_server import psql_set


def test_a_plain_value_is_quoted():
    assert psql_set("password", "s3cret") == "\\set password 's3cret'"


def test_quotes_backslashes_and_newlines_are_escaped():
    assert psql_set("password", "a'b\\c\nd") == "\\set password 'a''b\\\\c\\nd'"
