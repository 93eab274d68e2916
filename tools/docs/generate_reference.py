"""make docs: writes the reference pages of docs/roles and docs/plugins from the roles' argument_specs and the
plugins' documentation. With --check, writes nothing and fails when a page is not what it would write."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reference_files import plan, stale, write
from reference_source import DocsError, dump_metadata, read_reference

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report the pages that are not up to date")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout (default: this one)")
    args = parser.parse_args(argv)
    try:
        changes = plan(read_reference(dump_metadata(args.repo), args.repo), args.repo)
    except DocsError as error:
        print(f"make docs: {error}", file=sys.stderr)
        return 2
    if args.check:
        outdated = stale(changes, args.repo)
        for path in outdated:
            print(f"{path} is not up to date: run `make docs`", file=sys.stderr)
        return 1 if outdated else 0
    for path in write(changes, args.repo):
        print(f"wrote {path}" if (args.repo / path).exists() else f"removed {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
