"""The per-container connection: lazy, reused, reopened when it breaks, never pinning RDS Proxy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from moto import mock_aws

from chatwoot_integration.api.app import database_reachable
from chatwoot_integration.bootstrap import Components
from chatwoot_integration.config import Settings
from chatwoot_integration.db import Database, conninfo_from_settings


def test_the_connection_is_opened_on_first_use_and_reused(database_url: str) -> None:
    opened: list[str] = []

    def conninfo() -> str:
        opened.append("open")
        return database_url

    database = Database(conninfo)
    assert opened == []
    first = database.connection()
    with database.transaction() as conn:
        conn.execute("SELECT 1")
    assert database.connection() is first
    assert opened == ["open"]
    assert first.prepare_threshold is None  # no automatic prepared statements: RDS Proxy would pin
    assert first.autocommit  # every unit of work opens its own transaction; none is left open
    database.close()


def test_a_closed_connection_is_reopened(database_url: str) -> None:
    database = Database(lambda: database_url)
    database.connection().close()
    with database.transaction() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    database.close()


def test_a_connection_the_server_dropped_fails_once_and_the_next_call_reconnects(database_url: str) -> None:
    database = Database(lambda: database_url)
    victim = database.connection()
    pid = victim.info.backend_pid
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(psycopg.OperationalError), database.transaction() as conn:
        conn.execute("SELECT 1")
    with database.transaction() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    assert database.connection() is not victim
    assert database_reachable(Components(Settings(), database=database))
    database.close()


def test_health_reports_an_unreachable_database() -> None:
    database = Database(lambda: "host=/nonexistent-socket-dir dbname=x connect_timeout=1")
    assert database_reachable(Components(Settings(), database=database)) is False


@pytest.fixture
def db_secret() -> Iterator[str]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="db", SecretString=json.dumps({"username": "app", "password": "pw"}))["ARN"]
        yield arn


def test_in_aws_credentials_come_from_the_secret_and_the_host_is_the_proxy(
    db_secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = Settings(db_host="proxy.example.internal", db_name="mirror", db_secret_arn=db_secret)
    conninfo = psycopg.conninfo.conninfo_to_dict(conninfo_from_settings(settings)())
    expected: dict[str, Any] = {
        "host": "proxy.example.internal",
        "port": "5432",
        "dbname": "mirror",
        "user": "app",
        "password": "pw",
        "sslmode": "require",
    }
    assert conninfo == expected


def test_without_a_database_url_or_proxy_settings_it_says_what_is_missing() -> None:
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        conninfo_from_settings(Settings())
