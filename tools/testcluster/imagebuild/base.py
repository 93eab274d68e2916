"""The base image the Containerfiles start from, made from Debian packages (no registry to pull from).

Both Containerfiles start `FROM docker.io/library/python:<version>-slim`. This builds an image of
that name from a Debian minbase with the distribution's Python, offering what the Containerfiles
use from the official image: `python` and `pip` on PATH, `python -m venv`, `groupadd`/`useradd`,
`sh`, CA certificates, and `pip install` into the system Python allowed (no EXTERNALLY-MANAGED
marker). Debian 12 ships Python 3.11, hence the tag.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from . import steps

SUITE = "bookworm"
PYTHON_VERSION = "3.11"  # the Python of SUITE
NAME = f"docker.io/library/python:{PYTHON_VERSION}-slim"
SOURCES = [
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
]
PACKAGES = ["python3", "python3-venv", "python3-pip", "ca-certificates", "passwd"]
# No documentation, manual pages or translations: the image stays small (copyright files stay).
DPKG_OPTIONS = [
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
]
CUSTOMIZE_HOOKS = [
    # The official image lets pip install into the system Python.
    f'rm -f "$1"/usr/lib/python{PYTHON_VERSION}/EXTERNALLY-MANAGED',
    'ln -sf python3 "$1"/usr/bin/python',
    'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/cache/debconf/*-old "$1"/var/log/*',
]
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
CMD = '["python3"]'


def mmdebstrap_argv(output: Path, package_list: Path) -> list[str]:
    argv = [
        "mmdebstrap",
        "--variant=minbase",
        "--mode=root",
        "--format=tar",
        "--aptopt=APT::Install-Recommends false",
        # /bin, /lib, /sbin as symlinks made up front: otherwise apt picks usrmerge, which brings Perl.
        "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
        f"--include={','.join(PACKAGES)}",
    ]
    argv += [f"--dpkgopt={option}" for option in DPKG_OPTIONS]
    argv += [f"--customize-hook={hook}" for hook in CUSTOMIZE_HOOKS]
    # Recorded for the images built on this base: their cache key covers its exact package set.
    argv.append(f'--customize-hook=dpkg-query --admindir="$1"/var/lib/dpkg -W > {package_list}')
    return [*argv, SUITE, str(output), *SOURCES]


def recipe() -> dict:
    """Everything that decides the base's content, for its cache key."""
    return {
        "name": NAME,
        "mmdebstrap": mmdebstrap_argv(Path("OUT"), Path("PACKAGES")),
        "env": ENV,
        "cmd": CMD,
        "tools": {tool: steps.output([tool, "--version"]) for tool in ("mmdebstrap", "buildah")},
    }


def build(work_dir: Path, log_file: Path) -> tuple[list[dict], str]:
    """Build the base into buildah's storage as NAME; return the steps' timings and its package list."""
    steps.require_tools("mmdebstrap", "buildah")
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="base-") as tmp:
        rootfs, package_list = Path(tmp) / "rootfs.tar", Path(tmp) / "packages.txt"
        timings = [steps.run("debian rootfs (mmdebstrap)", mmdebstrap_argv(rootfs, package_list), log_file)]
        container = steps.output(["buildah", "from", "scratch"])
        try:
            timings.append(steps.run("add rootfs", ["buildah", "add", container, str(rootfs), "/"], log_file))
            config = ["buildah", "config", "--cmd", CMD]
            for name, value in ENV.items():
                config += ["--env", f"{name}={value}"]
            steps.run("configure", [*config, container], log_file)
            timings.append(steps.run("commit", ["buildah", "commit", "--rm", container, NAME], log_file))
        except BaseException:
            steps.output(["buildah", "rm", container])
            raise
        return timings, package_list.read_text()
