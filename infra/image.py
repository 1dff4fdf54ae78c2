"""Build and push the Fargate image with ``docker buildx`` (the only step that needs an engine).

There is no container engine on the dev box, so :func:`require_engine` fails with a message
saying what is missing and what still works (the stack part: ``SKIP_IMAGE=1``).
:func:`require_builder` also checks that the buildx builder can build the task's platform (an
arm64 image on an x86_64 machine needs QEMU registered with binfmt_misc): ``make deploy-fargate``
runs both before it changes any stack, so a machine that cannot build fails first, not halfway.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

from infra.bundle import source_files

ROOT = Path(__file__).resolve().parents[1]
#: The build context the Dockerfile uses (mirrors .dockerignore's allow-list).
CONTEXT = ("requirements/runtime.txt", "requirements/runtime-lock.txt", "shared", "fargate")
PLATFORMS = {"ARM64": "linux/arm64", "X86_64": "linux/amd64"}


class ContainerEngineError(RuntimeError):
    """No usable docker/buildx: the image cannot be built here."""


def image_tag(root: Path = ROOT, architecture: str = "ARM64") -> str:
    """Content hash of the build context plus the CPU architecture: same sources and platform →
    same (immutable) tag. The architecture is part of the tag so a change of ``CpuArchitecture``
    builds and pushes an image for the new platform instead of reusing the old one (which the
    tasks could not run: the circuit breaker would roll the deployment back)."""
    if architecture not in PLATFORMS:
        raise ValueError(f"unknown CpuArchitecture {architecture}; one of {', '.join(PLATFORMS)}")
    digest = hashlib.sha256()
    for relative in source_files(root, CONTEXT):
        digest.update(relative.as_posix().encode() + b"\0" + (root / relative).read_bytes() + b"\0")
    return f"{digest.hexdigest()[:16]}-{architecture.lower()}"


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


def builder_platforms(inspect_output: str) -> set[str]:
    """The platforms in ``docker buildx inspect`` output (``Platforms: linux/amd64, linux/arm64*``;
    a trailing ``*`` marks platforms set by the user, not a different platform)."""
    platforms: set[str] = set()
    for line in inspect_output.splitlines():
        label, sep, values = line.partition(":")
        if sep and label.strip() == "Platforms":
            platforms |= {value.strip().rstrip("*") for value in values.split(",") if value.strip()}
    return platforms


def require_builder(platform: str, docker: str | None = None) -> str:
    """The engine (see :func:`require_engine`) whose default buildx builder can build ``platform``."""
    docker = require_engine(docker)
    result = subprocess.run([docker, "buildx", "inspect", "--bootstrap"], capture_output=True, text=True)
    if result.returncode != 0:
        raise ContainerEngineError(f"`docker buildx inspect` failed: {result.stderr.strip()}")
    available = builder_platforms(result.stdout)
    if platform not in available:
        arch = platform.rsplit("/", 1)[1]
        offered = ", ".join(sorted(available)) or "nothing"
        raise ContainerEngineError(
            f"the buildx builder cannot build {platform} (it offers {offered}). "
            f"Register QEMU for it: `docker run --privileged --rm tonistiigi/binfmt --install {arch}` "
            "(then `docker buildx inspect --bootstrap` lists it), build on a machine of that "
            "architecture, or deploy the other architecture (PARAMS=CpuArchitecture=X86_64 or ARM64). "
            "No stack was changed."
        )
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
    docker = require_builder(PLATFORMS[architecture])
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
