"""The staff token from AWS Systems Manager Parameter Store, for runtimes that cannot be handed
it as a plain environment variable without exposing it (Lambda's settings show its variables).
"""

from __future__ import annotations

from typing import Any


def read_secure_parameter(name: str, client: Any = None) -> str:
    """The decrypted value of an SSM SecureString (boto3 imported only when one is used)."""
    if client is None:
        import boto3

        client = boto3.session.Session().client("ssm")
    value: str = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return value
