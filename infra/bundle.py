"""The EC2 app bundle: a reproducible .tar.gz of what the instance installs.

Byte-identical for identical sources (sorted entries, zeroed times and owners), so its hash names
it: the same code never uploads twice; a new bundle key makes CloudFormation replace the instance
(the key is in the network interface's description, a replacement-only property) or roll the Auto
Scaling group (new launch template version); and the user-data script can skip installing a bundle
a baked AMI already has.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Repository paths that go into the bundle (directories recursively).
CONTENTS = ("requirements/runtime.txt", "requirements/runtime-lock.txt", "shared", "ec2")
EXCLUDED_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache"}
#: Build leftovers inside a package folder (``pip install ./shared`` writes ``shared/build/``
#: with copies of old sources): never shipped, so the bundle is exactly the checked-out code.
EXCLUDED_TOP = {"build", "dist"}


def source_files(root: Path, contents: tuple[str, ...] = CONTENTS) -> Iterator[Path]:
    """Repository-relative source files under ``contents``: no caches, bytecode, egg-info, or build
    leftovers. The Fargate image's tag hashes the same selection of its own context."""
    for entry in contents:
        path = root / entry
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in candidates:
            relative = file.relative_to(root)
            inside = relative.parts[1:-1]  # folders below the CONTENTS entry
            if inside and inside[0] in EXCLUDED_TOP:
                continue
            if EXCLUDED_PARTS.intersection(relative.parts) or any(
                part.endswith(".egg-info") for part in relative.parts
            ):
                continue
            if file.suffix == ".pyc":
                continue
            yield relative


def build(root: Path, out_dir: Path) -> Path:
    """Write ``ec2-bundle-<sha12>.tar.gz`` into out_dir and return its path."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for relative in sorted(set(source_files(root))):
            data = (root / relative).read_bytes()
            info = tarfile.TarInfo(relative.as_posix())
            info.size = len(data)
            info.mode = 0o755 if (root / relative).stat().st_mode & 0o111 else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    compressed = gzip.compress(raw.getvalue(), mtime=0)
    digest = hashlib.sha256(compressed).hexdigest()[:12]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"ec2-bundle-{digest}.tar.gz"
    path.write_bytes(compressed)
    return path


def upload(s3: Any, bucket: str, stage: str, path: Path) -> str:
    """Upload unless an object with this content-named key exists; returns the key."""
    key = f"ec2/{stage}/{path.name}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        s3.upload_file(str(path), bucket, key)
        print(f"uploaded s3://{bucket}/{key}")
    return key
