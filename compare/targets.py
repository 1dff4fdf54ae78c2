"""Remote targets: `--target name=URL` arguments or the JSON files the deploy targets write.

build/outputs/*.json: each a JSON object with at least a runtime name and a URL. The reader is
tolerant: it accepts a few spellings of both, skips files it cannot use (saying why), and lets
`--target` override a file for the same runtime.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from compare.results import AWS_LABEL, LOCAL_ENDPOINT_LABEL, MIXED_LABEL

NAME_KEYS = ("runtime", "name", "Runtime")
URL_KEYS = ("url", "endpoint", "Url", "URL", "ApiUrl", "EndpointURL", "api_url", "service_url")
LOG_GROUP_KEYS = ("log_group", "logGroup", "LogGroup", "log_group_name")
FUNCTION_KEYS = ("function_name", "FunctionName", "function")


class TargetError(ValueError):
    """A --target argument is malformed."""


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def log_group(self) -> str | None:
        for key in LOG_GROUP_KEYS:
            if self.extra.get(key):
                return str(self.extra[key])
        for key in FUNCTION_KEYS:
            if self.extra.get(key):
                return f"/aws/lambda/{self.extra[key]}"
        return None

    @property
    def region(self) -> str | None:
        value = self.extra.get("region") or self.extra.get("Region")
        return str(value) if value else None


def parse_target(text: str) -> Target:
    name, sep, url = text.partition("=")
    if not sep or not name.strip() or not url.strip().startswith(("http://", "https://")):
        raise TargetError(f"--target wants name=http(s)://host[/path], got {text!r}")
    return Target(name.strip(), url.strip().rstrip("/"))


def _first(raw: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if raw.get(key):
            return raw[key]
    return None


def read_outputs(directory: Path) -> tuple[list[Target], list[str]]:
    """Targets from directory/*.json, plus a note for every file that was skipped."""
    targets: list[Target] = []
    notes: list[str] = []
    if not directory.is_dir():
        return targets, notes
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            notes.append(f"{path.name}: not readable JSON ({exc})")
            continue
        if not isinstance(raw, dict):
            notes.append(f"{path.name}: not a JSON object")
            continue
        name = _first(raw, NAME_KEYS) or path.stem
        url = _first(raw, URL_KEYS)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            notes.append(f"{path.name}: no http(s) URL under any of {', '.join(URL_KEYS)}")
            continue
        targets.append(Target(str(name), url.rstrip("/"), raw))
    return targets, notes


def merge(from_files: Iterable[Target], from_args: Iterable[Target]) -> list[Target]:
    """One target per name; command-line targets win over files."""
    merged: dict[str, Target] = {t.name: t for t in from_files}
    for target in from_args:
        previous = merged.get(target.name)
        merged[target.name] = Target(target.name, target.url, previous.extra if previous else {})
    return list(merged.values())


def remote_label(url: str) -> str:
    """A deployed endpoint is measured on AWS; a loopback address is this machine."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return LOCAL_ENDPOINT_LABEL if host in ("localhost", "") else AWS_LABEL
    return LOCAL_ENDPOINT_LABEL if address.is_loopback else AWS_LABEL


def remote_source(targets: Iterable[Target]) -> str:
    labels = {remote_label(t.url) for t in targets}
    return labels.pop() if len(labels) == 1 else MIXED_LABEL
