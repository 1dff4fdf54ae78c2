"""IAM statements shared by every runtime: exactly what the DynamoDB store needs, nothing more.

One list of table actions keeps the Lambda policy file, the Fargate task role and the EC2
instance profile in step; the tests assert no data action is a wildcard.
"""

from __future__ import annotations

from typing import Any, Final

from infra.cfn import Json, index_arn, table_arn

#: Item-level actions the store uses (shared/cafe/stores/dynamodb.py): conditional writes and
#: transactions of Put/Update (TransactWriteItems is authorised per item through these), reads and
#: queries, and the batch read of the waiting orders' statuses when a placement prunes the
#: queue item's set (dynamodb_waiting.py); the idempotency record is written in the order's
#: own transaction. Nothing deletes items
#: (expiry is DynamoDB's TTL) and no transaction has a bare ConditionCheck, so those are not granted.
TABLE_ACTIONS: Final = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:Query",
)
#: The status GSI is only ever queried.
INDEX_ACTIONS: Final = ("dynamodb:Query",)
#: The store's reads alone: an order (GetItem), the store item and the queue item (GetItem, the
#: STORE partition's Query), the waiting orders' statuses behind the waiting count (BatchGetItem),
#: and the board and queue through the status GSI (INDEX_ACTIONS). What the live-push functions
#: need to build a subscriber's first state and each change's board or queue view; they write
#: nothing to the order book.
ORDER_READ_ACTIONS: Final = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
#: What Lambda's event source mapping calls on the table's stream, as the function's role (AWS's
#: own example policy scopes all four to the stream ARN, ListStreams included).
STREAM_READ_ACTIONS: Final = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


def table_statements(table_name: Any) -> list[Json]:
    """Statements for one table (a parameter Ref or a literal name) and its indexes."""
    return [
        {
            "Sid": "OrderBookTable",
            "Effect": "Allow",
            "Action": list(TABLE_ACTIONS),
            "Resource": table_arn(table_name),
        },
        {
            "Sid": "OrderBookIndexes",
            "Effect": "Allow",
            "Action": list(INDEX_ACTIONS),
            "Resource": index_arn(table_name),
        },
    ]


def token_parameter_arn(parameter_name: Any) -> Json:
    """ARN of the staff-token SecureString (its name starts with a slash)."""
    return {
        "Fn::Sub": [
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}",
            {"Name": parameter_name},
        ]
    }
