"""Pip bootstrap for the virtual environments that ansible-test sanity creates.

ansible-test creates each sanity test's virtual environment without pip, then runs a pip
bootstrap script ("get-pip") that it downloads from the Ansible project's CI file host and
caches as ~/.ansible/test/cache/get_pip_<version>.py. That host is not reachable from every
machine this collection is tested on, so `make sanity` places this script in the cache
instead. It does what the downloaded one does, from the package index pip already uses:
install the interpreter's bundled pip (ensurepip), then the requested packages with it.

Called by ansible-test as `python get_pip.py [pip options] pip==<version> --no-setuptools --no-wheel`.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip's own options; pip install does not know them.
GET_PIP_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main() -> None:
    """Bootstrap pip into the running interpreter's environment and install the requested packages."""
    args = sys.argv[1:]
    # In a child process: ensurepip hides pip's configuration (index, certificates) from the
    # process it runs in, and the install below needs it.
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    subprocess.check_call([sys.executable, "-m", "pip", "install", *[a for a in args if a not in GET_PIP_OPTIONS]])
    # ensurepip also brings setuptools on some Python versions; get-pip leaves it out when asked.
    if "--no-setuptools" in args:
        subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "setuptools"])


if __name__ == "__main__":
    main()
