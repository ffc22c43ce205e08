"""``make replay`` reads its options from make variables (the environment) or arguments."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from localdev.replay import ReplayOptions, parse_options


def test_make_variables_set_the_integration_and_the_limit() -> None:
    assert parse_options([], {"INTEGRATION_ID": "2", "LIMIT": "50"}) == ReplayOptions(integration_id=2, limit=50)


def test_arguments_win_over_the_environment_and_defaults_apply() -> None:
    assert parse_options(["--integration-id", "7"], {"INTEGRATION_ID": "2"}) == ReplayOptions(integration_id=7)
    assert parse_options([], {"INTEGRATION_ID": " ", "LIMIT": ""}) == ReplayOptions(integration_id=None, limit=500)


def test_a_nonsensical_limit_is_refused() -> None:
    with pytest.raises(ValidationError):
        parse_options(["--limit", "0"], {})
