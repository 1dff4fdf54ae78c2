"""The @connections management API (`POST|GET|DELETE /{stage}/@connections/{connectionId}`).

What boto3's `apigatewaymanagementapi` client speaks (rest-json, service model 2018-11-29): POST
sends the body to the connection (200), GET answers `connectedAt`, `lastActiveAt` (ISO 8601) and
`identity` {sourceIp, userAgent}, DELETE closes it (204). Errors carry the `x-amzn-ErrorType`
header botocore reads the error code from, so the client raises its modelled exceptions:
GoneException (410) for a connection that is not open, PayloadTooLargeException (413) past
128 KB, LimitExceededException (429) when the client does not read. Requests are not signed-checked:
the endpoint is local.
"""

from __future__ import annotations

import datetime

from aiohttp import web

from compare.local.lambda_emu.websocket import WebSocketApi
from compare.local.lambda_emu.ws_events import STAGE


def _error(status: int, error_type: str, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})


def _iso(epoch_s: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_s, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ConnectionsApi:
    def __init__(self, websocket: WebSocketApi, stage: str = STAGE) -> None:
        self.websocket = websocket
        self.stage = stage

    def add_routes(self, app: web.Application) -> None:
        path = f"/{self.stage}/@connections/{{connection_id}}"
        app.router.add_post(path, self.post)
        app.router.add_get(path, self.get)
        app.router.add_delete(path, self.delete)

    async def post(self, request: web.Request) -> web.Response:
        data = await request.read()
        if len(data) > self.websocket.limits.message_limit:
            limit = self.websocket.limits.message_limit
            return _error(413, "PayloadTooLargeException", f"Message too long: {len(data)} > {limit} bytes")
        sent = await self.websocket.post(request.match_info["connection_id"], data)
        if sent == "gone":
            return _error(410, "GoneException", "Gone")
        if sent == "limited":
            return _error(429, "LimitExceededException", "The client is not reading its messages")
        return web.Response(status=200)

    async def get(self, request: web.Request) -> web.Response:
        found = self.websocket.describe(request.match_info["connection_id"])
        if found is None:
            return _error(410, "GoneException", "Gone")
        return web.json_response(
            {
                "connectedAt": _iso(found["connected_at"]),
                "lastActiveAt": _iso(found["last_active_at"]),
                "identity": {"sourceIp": found["source_ip"], "userAgent": found["user_agent"]},
            }
        )

    async def delete(self, request: web.Request) -> web.Response:
        if not self.websocket.close(request.match_info["connection_id"]):
            return _error(410, "GoneException", "Gone")
        return web.Response(status=204)
