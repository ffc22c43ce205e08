"""The composition root: parts built on first use, once per container, replaceable by tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatwoot_integration.bootstrap import Components, bootstrap
from chatwoot_integration.config import Settings
from chatwoot_integration.secrets import DatabaseSecretStore, SecretsManagerStore


def test_nothing_is_built_until_it_is_asked_for_and_then_it_is_built_once() -> None:
    components = Components(Settings(database_url="postgresql://unused"))

    assert "database" not in vars(components)
    first = components.integrations

    assert components.integrations is first
    assert components.database is components.database
    assert isinstance(components.secret_store, DatabaseSecretStore)


def test_the_settings_choose_the_secret_store() -> None:
    components = Components(Settings(secrets_backend="secretsmanager", integration_secrets_prefix="p/"))

    store = components.secret_store

    assert isinstance(store, SecretsManagerStore)
    assert store.name_for(4) == "p/4"


def test_an_override_is_the_part_itself_and_configure_starts_again() -> None:
    store = SecretsManagerStore("given/")
    components = Components(Settings(), secret_store=store)
    assert components.secret_store is store
    lookup = components.secrets

    components.configure(Settings(secrets_backend="secretsmanager"))

    assert components.secret_store is not store
    assert components.secrets is not lookup


def test_a_name_that_is_not_a_part_is_refused() -> None:
    with pytest.raises(TypeError, match="not a part of the graph: databse"):
        Components(Settings(), databse=object())


def test_the_handlers_graph_is_one_per_process() -> None:
    assert bootstrap() is bootstrap()


def test_the_graph_of_a_function_that_never_touches_the_database_does_not_load_psycopg_or_httpx() -> None:
    script = (
        "import json, sys\n"
        "from chatwoot_integration.bootstrap import Components\n"
        "from chatwoot_integration.config import Settings\n"
        "c = Components(Settings(secrets_backend='secretsmanager'))\n"
        "c.secrets\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "layers" / "common")}
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    loaded = json.loads(completed.stdout)

    assert "psycopg" not in loaded
    assert "httpx" not in loaded
