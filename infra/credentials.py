"""Whose credentials a deploy runs with, and a plain answer when there are none or they expired.

Every command that talks to AWS (``infra.deploy``, ``infra.bake``, ``infra.preflight``) asks STS who
it is before it changes anything (:func:`identity`), and turns the errors of a missing or expired
session into one sentence saying what to do (:func:`explain`) instead of a botocore traceback.

AWS Academy Learner Lab sessions run as the assumed role ``voclabs``: such an ARN without
``LAB=1`` stops with advice (:func:`check_mode`), since the normal templates create IAM roles,
which the lab refuses only after CloudFormation has started creating the stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import (
    ClientError,
    CredentialRetrievalError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

#: The role an AWS Academy Learner Lab session assumes (its ARN: ``...:assumed-role/voclabs/<user>``).
LAB_SESSION_ROLE: Final = "voclabs"
#: Error codes AWS answers with when the credentials are expired, revoked or not valid at all.
EXPIRED_CODES: Final = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AuthFailure",
    }
)
MISSING: Final = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
    SSOTokenLoadError,
)
HOW_TO: Final = (
    "In a Learner Lab: Start Lab, open AWS Details, press Show next to AWS CLI and paste the three "
    "lines into ~/.aws/credentials (they change at every lab start). Elsewhere: aws configure, "
    "aws sso login or AWS_PROFILE=<profile>. Check with: aws sts get-caller-identity"
)


class CredentialsError(RuntimeError):
    """No usable credentials, expired ones, or lab credentials without LAB=1."""


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    #: When the credentials stop working, if they say so (SSO, assumed roles, env expiry).
    expires: datetime | None

    @property
    def is_lab_session(self) -> bool:
        return f":assumed-role/{LAB_SESSION_ROLE}/" in self.arn

    @property
    def role_arn(self) -> str | None:
        """The IAM role behind an assumed-role session (what the policy simulator takes)."""
        if ":assumed-role/" not in self.arn:
            return self.arn if ":user/" in self.arn else None
        prefix, _, rest = self.arn.partition(":assumed-role/")
        role = rest.split("/", 1)[0]
        return prefix.replace(":sts:", ":iam:", 1) + f":role/{role}"


def explain(error: BaseException) -> str | None:
    """One paragraph for a credentials problem; None for any other error."""
    if isinstance(error, CredentialsError):
        return str(error)
    if isinstance(error, MISSING):
        return f"no usable AWS credentials ({error}). {HOW_TO}"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code in EXPIRED_CODES:
            return (
                f"the AWS credentials were refused ({code}): they expired or are not valid any more "
                f"(a Learner Lab's end when the session ends). {HOW_TO}"
            )
    return None


def _expiry(session: Any) -> datetime | None:
    credentials = session.get_credentials()
    # botocore keeps the expiry of refreshable credentials (SSO, assume-role, process, env with
    # AWS_CREDENTIAL_EXPIRATION) here; static keys from a credentials file have none.
    expires = getattr(credentials, "_expiry_time", None)
    return expires if isinstance(expires, datetime) else None


def identity(session: Any, sts: Any | None = None) -> Identity:
    """``sts get-caller-identity``; raises :class:`CredentialsError` with what to do."""
    try:
        answer = (sts or session.client("sts")).get_caller_identity()
        expires = _expiry(session)
    except Exception as error:
        message = explain(error)
        if message is None:
            raise
        raise CredentialsError(message) from None
    if expires is not None and expires <= datetime.now(UTC):
        raise CredentialsError(f"the AWS credentials expired at {expires.isoformat()}. {HOW_TO}")
    return Identity(account=answer["Account"], arn=answer["Arn"], expires=expires)


def check_mode(who: Identity, *, lab: bool) -> None:
    """Learner Lab credentials must come with LAB=1 (the normal stacks create IAM roles)."""
    if who.is_lab_session and not lab:
        raise CredentialsError(
            f"these are AWS Academy Learner Lab credentials ({who.arn}) but LAB=1 is not set. "
            "Without it the stacks create IAM roles, which a lab refuses (the stack would roll back). "
            "Run make lab-check LAB=1, then add LAB=1 to every target: make deploy-lambda LAB=1"
        )
