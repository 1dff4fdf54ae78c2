from __future__ import annotations

import pytest

from cafe.config import Config, ConfigurationError


def test_defaults():
    config = Config.from_env({})
    assert (config.store, config.currency, config.timezone, config.staff_token) == (
        "sqlite",
        "KRW",
        "Asia/Seoul",
        None,
    )


def test_everything_from_the_environment():
    config = Config.from_env(
        {
            "CAFE_STORE": "dynamodb",
            "CAFE_TABLE": "orders-prod",
            "CAFE_STAFF_TOKEN": "s3cret-token",
            "CAFE_TIMEZONE": "UTC",
            "CAFE_CURRENCY": "USD",
        }
    )
    assert (config.store, config.table, config.staff_token, config.timezone, config.currency) == (
        "dynamodb",
        "orders-prod",
        "s3cret-token",
        "UTC",
        "USD",
    )


@pytest.mark.parametrize(
    "env",
    [
        {"CAFE_STORE": "postgres"},
        {"CAFE_TIMEZONE": "Mars/Olympus"},
        {"CAFE_CURRENCY": "won"},
        {"CAFE_RUNTIME": "k8s"},
    ],
)
def test_bad_settings_fail_at_start_up(env):
    with pytest.raises(ConfigurationError):
        Config.from_env(env)
