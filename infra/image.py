"""Build and push the Fargate image with ``docker buildx`` (the only step that needs an engine).

There is no container engine on the dev box, so :func:`require_engine` fails with a message
saying what is missing and what still works (the stack part: ``SKIP_IMAGE=1``).
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The build context the Dockerfile uses (mirrors .dockerignore's allow-list).
CONTEXT = ("requirements/runtime.txt", "shared", "fargate")
PLATFORMS = {"ARM64": "linux/arm64", "X86_64": "linux/amd64"}


class ContainerEngineError(RuntimeError):
    """No usable docker/buildx: the image cannot be built here."""


def image_tag(root: Path = ROOT) -> str:
    """Content hash of the build context: same sources → same (immutable) tag."""
    digest = hashlib.sha256()
    for entry in CONTEXT:
        path = root / entry
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            relative = file.relative_to(root)
            if (
                "__pycache__" in relative.parts
                or file.suffix == ".pyc"
                or any(part.endswith(".egg-info") for part in relative.parts)
            ):
                continue
            digest.update(relative.as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def require_engine(docker: str | None = None) -> str:
    docker = docker or shutil.which("docker")
    hint = (
        "the Fargate image needs Docker with buildx (or a compatible engine). The stack itself "
        "deploys without it: make deploy-fargate SKIP_IMAGE=1 IMAGE_TAG=<an existing tag>."
    )
    if docker is None:
        raise ContainerEngineError(f"no `docker` on PATH: {hint}")
    for check in (["info"], ["buildx", "version"]):
        result = subprocess.run([docker, *check], capture_output=True, text=True)
        if result.returncode != 0:
            raise ContainerEngineError(f"`docker {' '.join(check)}` failed ({result.stderr.strip()}): {hint}")
    return docker


def image_exists(ecr: Any, repository: str, tag: str) -> bool:
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return False
    return True


def build_and_push(ecr: Any, repository_uri: str, tag: str, architecture: str = "ARM64") -> str:
    """Push ``repository_uri:tag`` unless it is already there; returns the image reference."""
    repository = repository_uri.split("/", 1)[1]
    reference = f"{repository_uri}:{tag}"
    if image_exists(ecr, repository, tag):
        print(f"{reference} already pushed")
        return reference
    docker = require_engine()
    auth = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    registry = repository_uri.split("/", 1)[0]
    subprocess.run(
        [docker, "login", "--username", user, "--password-stdin", registry],
        input=password,
        text=True,
        check=True,
    )
    subprocess.run(
        [
            docker,
            "buildx",
            "build",
            "--platform",
            PLATFORMS[architecture],
            "--file",
            "fargate/Dockerfile",
            "--tag",
            reference,
            "--push",
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    return reference
