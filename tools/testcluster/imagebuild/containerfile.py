"""Building an image from one of the collection's Containerfiles with buildah, on the local base."""

from __future__ import annotations

import re
import shlex
import shutil
import tempfile
from pathlib import Path

from . import cachekey, steps

# The host's trust store and pip configuration reach the build's RUN steps as read-only mounts:
# pip then reaches PyPI the way it does on this machine (whose network may present a site CA),
# and nothing of the host ends up in the image.
HOST_FILES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pip.conf"]


def copy_sources(containerfile_text: str) -> list[str]:
    """The build-context paths the Containerfile's COPY and ADD instructions read (not --from stages)."""
    sources = []
    for instruction in _instructions(containerfile_text):
        words = shlex.split(instruction)
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        arguments = words[1:]
        if any(word.startswith("--from") for word in arguments):
            continue
        paths = [word for word in arguments if not word.startswith("--")]
        sources.extend(path.rstrip("/") or "." for path in paths[:-1])
    return sources


def _instructions(text: str) -> list[str]:
    """Instructions with their continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [line.strip() for line in joined.splitlines() if line.strip()]


def stage_context(repo: Path, files: list[Path], target: Path) -> None:
    """Copy exactly the hashed files into `target`, so the build reads what the cache key covers."""
    for path in files:
        destination = target / path.relative_to(repo)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def build_argv(containerfile: Path, context: Path, name: str, build_args: dict) -> list[str]:
    argv = [
        "buildah",
        "build",
        "--layers",
        "--pull=never",  # the base comes from the local storage, never a registry
        "--isolation=chroot",
        "--network=host",
        "--format=oci",
        f"--file={containerfile}",
        f"--tag={name}",
    ]
    argv += [f"--build-arg={key}={value}" for key, value in sorted(build_args.items())]
    argv += [f"--volume={path}:{path}:ro" for path in HOST_FILES if Path(path).is_file()]
    return [*argv, str(context)]


def build(spec: dict, files: list[Path], work_dir: Path, log_file: Path) -> dict:
    """Build `spec` (containerfile, context, name, build_args) from exactly `files` into buildah's storage."""
    steps.require_tools("buildah")
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="context-") as staged:
        stage_context(spec["context"], files, Path(staged))
        argv = build_argv(spec["containerfile"], Path(staged), spec["name"], spec["build_args"])
        return steps.run(f"build {spec['name']}", argv, log_file)


def context_files(repo: Path, containerfile: Path) -> list[Path]:
    return cachekey.context_files(repo, copy_sources(containerfile.read_text()))
