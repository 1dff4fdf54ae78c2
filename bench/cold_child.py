"""One cold start, run in a fresh interpreter by cold_init.py: import, then answer GET /menu.

``bare``: the baseline handler that only imports boto3 and creates a DynamoDB client.
``app``:  the Chalice app (CAFE_STORE=dynamodb), answering its first GET /menu through the
          Lambda handler with an API Gateway proxy event.
Prints one JSON line: init_ms (imports + module-level set-up) and first_ms (first invocation).
"""

import time

START = time.perf_counter()
import json  # noqa: E402
import sys  # noqa: E402

EVENT = {
    "resource": "/menu",
    "path": "/menu",
    "httpMethod": "GET",
    "headers": {"Accept": "application/json"},
    "multiValueHeaders": {"Accept": ["application/json"]},
    "queryStringParameters": None,
    "multiValueQueryStringParameters": None,
    "pathParameters": None,
    "stageVariables": None,
    "requestContext": {"resourcePath": "/menu", "httpMethod": "GET", "requestId": "bench", "stage": "api"},
    "body": None,
    "isBase64Encoded": False,
}


class Context:
    aws_request_id = "bench"
    function_name = "cafe-bench"
    memory_limit_in_mb = 512

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


if sys.argv[1] == "bare":
    import boto3

    client = boto3.client("dynamodb")

    def handler(event, context):
        return {"statusCode": 200, "body": "{}"}

else:
    # The Lambda zip holds app.py and the vendored package side by side on sys.path; importing
    # `cafe` through the worktree's editable install instead goes through setuptools' finder.
    sys.path[0:0] = ["chalice_app", "shared"]
    from app import app as handler

INIT = time.perf_counter()
response = handler(EVENT, Context())
DONE = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({"init_ms": (INIT - START) * 1000, "first_ms": (DONE - INIT) * 1000}))
