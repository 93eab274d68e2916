"""Where built images are cached, and the key that says whether a cached image is still current."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

# Never part of what a build copies into an image (the collection artifact leaves them out too).
IGNORED_NAMES = {"__pycache__"}
IGNORED_SUFFIXES = (".pyc",)


def cache_root() -> Path:
    explicit = os.environ.get("HOMELAB_MLFLOW_CACHE")
    if explicit:
        return Path(explicit) / "images"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "homelab-mlflow" / "images"


def context_files(root: Path, sources: list[str]) -> list[Path]:
    """Every file below `sources` (paths relative to `root`), sorted, without byte-code caches."""
    found = []
    for source in sources:
        path = root / source
        if path.is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise FileNotFoundError(f"build context has no {source} (below {root})")
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(name for name in dirnames if name not in IGNORED_NAMES)
            found.extend(Path(dirpath) / name for name in filenames if not name.endswith(IGNORED_SUFFIXES))
    return sorted(found)


def key(inputs: dict, files: list[Path] = (), root: Path | None = None) -> str:
    """SHA-256 over the JSON of `inputs` and each file's path (relative to `root`), mode and bytes."""
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode())
    for path in files:
        name = str(path.relative_to(root)) if root else str(path)
        digest.update(f"\0{name}\0{path.stat().st_mode & 0o777:o}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
