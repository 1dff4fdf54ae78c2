"""The web pages' files, read once from the package and served identically by every runtime."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from importlib import resources

from cafe.errors import NotFound

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class AssetNotFound(NotFound):
    code = "asset_not_found"


@lru_cache(maxsize=64)
def asset(name: str) -> tuple[bytes, str, str]:
    """(content, content type, ETag) of a file in cafe/web/static."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    if not SAFE_NAME.match(name) or suffix not in CONTENT_TYPES:
        raise AssetNotFound(f"no asset {name!r}", {"name": name})
    resource = resources.files("cafe").joinpath("web", "static", name)
    if not resource.is_file():
        raise AssetNotFound(f"no asset {name!r}", {"name": name})
    content = resource.read_bytes()
    etag = '"' + hashlib.sha256(content).hexdigest()[:20] + '"'
    return content, CONTENT_TYPES[suffix], etag


def asset_names() -> list[str]:
    """Every name ``asset`` serves (the OpenAPI document lists them)."""
    folder = resources.files("cafe").joinpath("web", "static")
    names = [entry.name for entry in folder.iterdir() if entry.is_file()]
    return sorted(
        name for name in names if SAFE_NAME.match(name) and name[name.rfind(".") :] in CONTENT_TYPES
    )
