"""Write every generated template to ``build/templates/<kind>.json`` (offline, no credentials)."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.cfn import dump
from infra.templates import GENERATORS

BUILD: Path = Path("build")


def render_all(out_dir: Path, *, lab: bool = False) -> list[Path]:
    return [dump(generate(lab), out_dir / f"{kind}.json") for kind, generate in GENERATORS.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=BUILD / "templates")
    parser.add_argument("--lab", action="store_true", help="Learner Lab mode: no IAM resources")
    args = parser.parse_args(argv)
    for path in render_all(args.out, lab=args.lab):
        print(path)


if __name__ == "__main__":
    main()
