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
    ],
)
def test_bad_settings_fail_at_start_up(env):
    with pytest.raises(ConfigurationError):
        Config.from_env(env)


def test_the_staff_token_can_come_from_ssm(monkeypatch):
    import boto3
    from moto import mock_aws

    from cafe.api import build_api

    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("ssm").put_parameter(
            Name="/cafe/test/staff-token", Type="SecureString", Value="from-ssm-123"
        )
        config = Config.from_env(
            {"CAFE_STORE": "memory", "CAFE_STAFF_TOKEN_PARAMETER": "/cafe/test/staff-token"}
        )
        assert build_api("lambda", config).staff_token == "from-ssm-123"
