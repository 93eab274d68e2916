#!/usr/bin/env python
# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local test cluster's audit log, for the drift scenario: where it ends now, and the requests
one user sent since then about one namespace (objects in it, the namespace itself, and
cluster-scoped or other objects whose name carries it).

    audit_log.py mark
    audit_log.py requests --since POSITION --user USER [--namespace NAMESPACE] [--writes]

`requests` prints a JSON list of requests; with --writes only the writes (server-side dry runs
are not writes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools" / "testcluster"))

from handle import TestCluster  # noqa: E402  # pylint: disable=wrong-import-position


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("mark")
    requests = commands.add_parser("requests")
    requests.add_argument("--since", type=int, required=True)
    requests.add_argument("--user", required=True)
    requests.add_argument("--namespace")
    requests.add_argument("--writes", action="store_true")
    arguments = parser.parse_args(argv)

    audit = TestCluster().audit
    if arguments.command == "mark":
        print(audit.mark())
        return 0
    found = [
        request
        for request in audit.requests(since=arguments.since, user=arguments.user)
        if request.is_write or not arguments.writes
        if arguments.namespace is None or request.concerns(arguments.namespace) or arguments.namespace in request.name
    ]
    print(json.dumps([request.__dict__ for request in found], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
