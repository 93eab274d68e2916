"""Running a command in a built image, to check that what it should offer works."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager

from . import steps


@contextmanager
def container(image: str):
    """A buildah working container of `image` (a name in buildah's storage, or `oci-archive:PATH`), removed after."""
    # A name is taken from the local storage only, never looked up in a registry.
    pull = [] if image.startswith("oci-archive:") else ["--pull=never"]
    name = steps.output(["buildah", "from", *pull, image])
    try:
        yield name
    finally:
        steps.output(["buildah", "rm", name])


def run(container_name: str, argv: list[str]) -> subprocess.CompletedProcess:
    """Run `argv` in the container as the image's user (chroot isolation: the host's network); output captured."""
    return subprocess.run(
        ["buildah", "run", "--isolation", "chroot", container_name, "--", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
