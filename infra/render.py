"""Write every generated template to ``build/templates/<kind>.json`` (offline, no credentials)."""

from __future__ import annotations

import argparse
from pathlib import Path

from infra.cfn import dump
from infra.templates import GENERATORS

BUILD: Path = Path("build")


def render_all(out_dir: Path) -> list[Path]:
    return [dump(generate(), out_dir / f"{kind}.json") for kind, generate in GENERATORS.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=BUILD / "templates")
    for path in render_all(parser.parse_args(argv).out):
        print(path)


if __name__ == "__main__":
    main()
