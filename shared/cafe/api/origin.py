"""Who is calling, and over what: the client address and scheme behind trusted proxies.

The runtimes pass the hop they saw (``Request.peer`` and ``Request.scheme``). When that hop is
a trusted proxy (the ALB, or anything on loopback locally) its ``X-Forwarded-For`` is read
from the right, skipping trusted hops: the first untrusted address is the client. Addresses a
client wrote further left are never believed, since each proxy only appends. A peer that is
not trusted (an API Gateway ``sourceIp``, a direct hit on an instance) is the client itself
and its forwarding headers are ignored.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cafe.api.http import Request

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Loopback (local runs) and the private ranges a VPC's load balancer connects from. Narrow it
# to the VPC's CIDR with CAFE_TRUSTED_PROXIES where clients inside the VPC are not trusted.
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


@dataclass(frozen=True)
class Origin:
    trusted: tuple[IPNetwork, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Origin:
        env = os.environ if env is None else env
        return cls(parse_networks(env.get("CAFE_TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES)))

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def client_address(self, request: Request) -> str:
        peer = request.peer or "unknown"
        if not self.is_trusted(peer):
            return peer
        forwarded = [hop.strip() for hop in (request.header("x-forwarded-for") or "").split(",")]
        for hop in reversed([hop for hop in forwarded if hop]):
            if not self.is_trusted(hop):
                return hop[:64]  # a key in a table: never let a header make it large
        return peer  # every hop is ours (a local client, or a health check)

    def scheme(self, request: Request) -> str:
        """https or http as the client used it: a trusted proxy's X-Forwarded-Proto, else the hop's."""
        if self.is_trusted(request.peer):
            forwarded = (request.header("x-forwarded-proto") or "").rsplit(",", 1)[-1].strip().lower()
            if forwarded:
                return forwarded
        return request.scheme
