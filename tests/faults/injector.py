"""Faults injected between botocore's retry handler and the network, for the fault suite.

``FaultInjector`` hooks ``before-send`` on a client: botocore emits it for every HTTP attempt
after its retry handler has decided to (re)send, so an injected fault goes through botocore's
own retries exactly as a real one would. The handler answers an attempt itself (a throttling
or 500 response), raises a connection error before anything is sent, or sends the request to
the table and then loses the answer (a read timeout after the write was applied).

Calls are told apart by botocore's ``amz-sdk-invocation-id`` header (one per call, the same on
each of its attempts), so "the n-th DynamoDB call of an operation" is well defined.

moto does not honour ``ClientRequestToken`` on ``TransactWriteItems``; DynamoDB does (a repeat
within ten minutes answers with the first outcome and writes nothing). The injector emulates
that for the attempts it sent itself and whose answer it dropped: the suite then checks the
store against the table it will really meet, not a weaker one.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session

TRANSACT = "TransactWriteItems"


class Fault(enum.Enum):
    THROTTLED = "ThrottlingException"
    THROUGHPUT_EXCEEDED = "ProvisionedThroughputExceededException"
    SERVER_ERROR = "InternalServerError (500)"
    CONNECTION_REFUSED = "connection error before sending"
    ANSWER_LOST = "read timeout after the table applied the request"
    TRANSACTION_THROTTLED = "TransactionCanceledException, reason ThrottlingError"

    def applies_to(self, operation: str) -> bool:
        return self is not Fault.TRANSACTION_THROTTLED or operation == TRANSACT


class Mode(enum.Enum):
    ABSORBED = "botocore absorbs it"  # the call's first attempt only
    EXHAUSTED = "botocore gives up"  # every attempt of the call


class _Body:
    """The ``raw`` of an ``AWSResponse`` made here: a body read in one piece."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


def _response(url: str, status: int, document: dict[str, Any]) -> AWSResponse:
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(url, status, headers, _Body(json.dumps(document).encode()))


def _error(url: str, status: int, code: str, message: str, **extra: Any) -> AWSResponse:
    return _response(
        url, status, {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}
    )


@dataclass
class FaultInjector:
    """Inject ``fault`` into the ``call``-th DynamoDB call (0-based) from the moment it is armed."""

    fault: Fault | None = None
    mode: Mode = Mode.ABSORBED
    call: int = 0
    calls: list[str] = field(default_factory=list)  # operation names, one per call, once armed
    injected: int = 0
    _invocations: dict[str, int] = field(default_factory=dict)
    _committed_tokens: set[str] = field(default_factory=set)
    _http: URLLib3Session = field(default_factory=URLLib3Session)

    def attach(self, client: Any) -> None:
        client.meta.events.register_first("before-send.dynamodb", self._before_send)

    def arm(self, fault: Fault | None, mode: Mode = Mode.ABSORBED, call: int = 0) -> None:
        self.fault, self.mode, self.call = fault, mode, call
        self.calls, self.injected, self._invocations = [], 0, {}

    def disarm(self) -> None:
        self.arm(None)

    def _before_send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        operation = request.headers["X-Amz-Target"].decode().rsplit(".", 1)[-1]
        invocation = request.headers["amz-sdk-invocation-id"].decode()
        attempt = int(request.headers["amz-sdk-request"].decode().split(";")[0].split("=")[1])
        if invocation not in self._invocations:
            self._invocations[invocation] = len(self.calls)
            self.calls.append(operation)
        index = self._invocations[invocation]
        token = json.loads(request.body or b"{}").get("ClientRequestToken") if operation == TRANSACT else None
        faulty = (
            self.fault is not None
            and index == self.call
            and self.fault.applies_to(operation)
            and (self.mode is Mode.EXHAUSTED or attempt == 1)
        )
        if faulty:
            self.injected += 1
            return self._inject(request, token)
        if token in self._committed_tokens:
            return _response(request.url, 200, {})  # DynamoDB: the same token, the first outcome
        return None

    def _inject(self, request: AWSPreparedRequest, token: str | None) -> AWSResponse:
        url = request.url
        if self.fault is Fault.THROTTLED:
            return _error(url, 400, "ThrottlingException", "Rate of requests exceeds the allowed throughput.")
        if self.fault is Fault.THROUGHPUT_EXCEEDED:
            return _error(
                url,
                400,
                "ProvisionedThroughputExceededException",
                "The level of configured throughput exceeded.",
            )
        if self.fault is Fault.SERVER_ERROR:
            return _error(url, 500, "InternalServerError", "Internal server error")
        if self.fault is Fault.CONNECTION_REFUSED:
            raise EndpointConnectionError(endpoint_url=url)
        if self.fault is Fault.TRANSACTION_THROTTLED:
            items = json.loads(request.body)["TransactItems"]
            reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity."}] + [
                {"Code": "None"} for _ in items[1:]
            ]
            return _error(
                url, 400, "TransactionCanceledException", "Transaction cancelled", CancellationReasons=reasons
            )
        assert self.fault is Fault.ANSWER_LOST
        if token not in self._committed_tokens:  # else DynamoDB answers the first outcome: lost too
            answer = self._http.send(request)
            if token is not None and answer.status_code == 200:
                self._committed_tokens.add(token)
        raise ReadTimeoutError(endpoint_url=url)
