"""Each Lambda function's own IAM policy: what that function does, nothing more.

``chalice package`` (with ``autogen_policy`` off) gives every function its own role; the staged
config points each function at its own file here (``lambda_functions.<name>.iam_policy_file``),
so the WebSocket handlers never hold the HTTP function's writes to the order book, and the HTTP
function never holds ``execute-api:ManageConnections``. Chalice copies the files verbatim, so
resources carry ``${...}`` placeholders that ``lambda_package.finish_template`` turns into
``Fn::Sub``: parameters (``TableName``, ``ConnectionsTableName``, ``TableStreamArn``,
``TokenParameter``) and the template's own ``WebsocketAPI``, resolved in the target account.

What each function is granted, and why (docs/deploy.md has the table), from what
``cafe.live.websocket`` and ``cafe.live.connections_dynamodb`` call:

- ``api_handler`` (the HTTP API): the order book's item actions and GSI queries, the staff token.
- ``websocket_connect``: nothing but its logs: ``$connect`` only accepts (the first subscription
  writes the connection's item), and nothing can be posted to a connection not yet open.
- ``websocket_message``: reads the order book (a subscription checks the order, or reads the board
  or queue, and sends that first state); on the connections table adds the channel to the
  connection item's set (one conditional ``UpdateItem``, the per-connection limit) and puts the
  subscription item, takes both back when the first state cannot be read (``DeleteItem``,
  ``UpdateItem``), and forgets a connection API Gateway says is gone (``GetItem`` of its channels,
  then ``BatchWriteItem`` deletes); reads the staff token (queue subscriptions); posts to the
  caller.
- ``websocket_disconnect``: forgets the connection (``GetItem``, ``BatchWriteItem``); it posts
  nothing (the connection is gone).
- ``order_book_stream``: the event source mapping's stream reads, the order book's reads (the
  board and queue views of a change), a channel's subscribers (``Query``), clearing the digest a
  board or queue subscription recorded of its first message once it posts it another
  (``UpdateItem``, conditioned on that digest: at most once per subscription), forgetting a
  gone connection (``GetItem``, ``BatchWriteItem``), and posting to the subscribers.

Every function may write its own log group and X-Ray traces (``xray: true``).
"""

from __future__ import annotations

from typing import Final

from infra import policy
from infra.cfn import Json

HTTP: Final = "api_handler"
WS_CONNECT: Final = "websocket_connect"
WS_MESSAGE: Final = "websocket_message"
WS_DISCONNECT: Final = "websocket_disconnect"
STREAM: Final = "order_book_stream"
#: Chalice's function names → the logical ids ``chalice package`` gives them. Every function of
#: the template must be here: one the app grows later fails the packaging instead of silently
#: running with the stage's default (HTTP) policy.
LOGICAL_IDS: Final = {
    HTTP: "APIHandler",
    WS_CONNECT: "WebsocketConnect",
    WS_MESSAGE: "WebsocketMessage",
    WS_DISCONNECT: "WebsocketDisconnect",
    STREAM: "OrderBookStream",
}
#: The functions behind live push (they get the connections table and the callback URL).
LIVE: Final = (WS_CONNECT, WS_MESSAGE, WS_DISCONNECT, STREAM)
#: The functions that read the staff token at cold start (``CAFE_STAFF_TOKEN_PARAMETER``): the HTTP
#: API's staff routes and the queue subscription. The others never check a token.
READS_STAFF_TOKEN: Final = (HTTP, WS_MESSAGE)

#: Forgetting a connection (``Connections.remove_connection``): its item's channels, then every
#: item of it deleted 25 at a time.
_FORGET: Final = ("dynamodb:GetItem", "dynamodb:BatchWriteItem")
#: The connections table's item actions per function (``websocket_connect`` touches none).
CONNECTION_ACTIONS: Final = {
    WS_MESSAGE: ("dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem", *_FORGET),
    WS_DISCONNECT: _FORGET,
    STREAM: ("dynamodb:Query", "dynamodb:UpdateItem", *_FORGET),
}
#: The functions that post to connections (a subscription's first state and errors; each change).
POSTS: Final = (WS_MESSAGE, STREAM)
#: The functions that read the order book without writing it.
READS_ORDER_BOOK: Final = (WS_MESSAGE, STREAM)


def _arn(service: str, resource: str) -> str:
    """An ARN in the stack's own partition, region and account."""
    return f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"


TABLE_ARN: Final = _arn("dynamodb", "table/")


def _statement(sid: str, actions: tuple[str, ...] | list[str], resource: str) -> Json:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resource}


def order_book_writes() -> list[Json]:
    """The HTTP API's: every item action the store uses, on the table and its indexes."""
    table = TABLE_ARN + "${TableName}"
    return [
        _statement("OrderBookTable", policy.TABLE_ACTIONS, table),
        _statement("OrderBookIndexes", policy.INDEX_ACTIONS, table + "/index/*"),
    ]


def order_book_reads() -> list[Json]:
    table = TABLE_ARN + "${TableName}"
    return [
        _statement("OrderBookReads", policy.ORDER_READ_ACTIONS, table),
        _statement("OrderBookIndexReads", policy.INDEX_ACTIONS, table + "/index/*"),
    ]


def connections(function: str) -> Json:
    return _statement("Connections", CONNECTION_ACTIONS[function], TABLE_ARN + "${ConnectionsTableName}")


def stream_reads() -> Json:
    # The parameter is the stream's full ARN (the data stack's TableStreamArn output).
    return _statement("OrderBookStream", policy.STREAM_READ_ACTIONS, "${TableStreamArn}")


def manage_connections() -> Json:
    """POST to @connections of this stack's WebSocket API only (any stage: it has one)."""
    api = _arn("execute-api", "${WebsocketAPI}/*/POST/@connections/*")
    return _statement("PostToConnections", ["execute-api:ManageConnections"], api)


def logs(function: str) -> Json:
    # CloudFormation names a function <stack>-<logical id>-<suffix> (well under Lambda's 64
    # characters for a stage name the data stack accepts); its log group is named after it.
    group = _arn("logs", f"log-group:/aws/lambda/${{AWS::StackName}}-{LOGICAL_IDS[function]}-*")
    return _statement("Logs", ["logs:CreateLogStream", "logs:PutLogEvents"], group)


def staff_token() -> Json:
    # The name starts with a slash (/cafe/<stage>/staff-token).
    return _statement(
        "StaffToken",
        ["ssm:GetParameter"],
        _arn("ssm", "parameter${TokenParameter}"),
    )


def tracing() -> Json:
    # X-Ray's write actions have no resource-level permissions: "*" is what AWS accepts.
    return _statement("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*")


def statements(function: str) -> list[Json]:
    """The policy statements of one function (see the module docstring for the reasons)."""
    found: list[Json] = []
    if function == HTTP:
        found += order_book_writes()
    if function == STREAM:
        found.append(stream_reads())
    if function in READS_ORDER_BOOK:
        found += order_book_reads()
    if function in CONNECTION_ACTIONS:
        found.append(connections(function))
    if function in POSTS:
        found.append(manage_connections())
    if function in READS_STAFF_TOKEN:
        found.append(staff_token())
    return [*found, logs(function), tracing()]


def document(function: str) -> Json:
    return {"Version": "2012-10-17", "Statement": statements(function)}


def policy_file(stage: str, function: str) -> str:
    """The HTTP function keeps the stage's file name (``policy-<stage>.json``)."""
    return f"policy-{stage}.json" if function == HTTP else f"policy-{stage}-{function}.json"
