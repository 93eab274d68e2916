#!/usr/bin/env python
"""Container images for the test cluster's node, built here (no registry is reachable) and cached.

    images.py build [NAME ...]                 build what is not cached (default: every image)
    images.py list                             each image: its name, cached archive, size, build time
    images.py import --address SOCKET --ctr PATH [NAME ...]
                                               import the archives into containerd (namespace k8s.io)

Images (NAME): `base` (docker.io/library/python:3.11-slim, made from Debian packages), `mlflow`
(images/mlflow/Containerfile, named <mlflow_image>:<mlflow_version> of the mlflow role's defaults)
and `drift` (images/drift/Containerfile, named as imagebuild/naming.py says). Each is an OCI archive
(`oci-archive` tar) below $HOMELAB_MLFLOW_CACHE/images (default ~/.cache/homelab-mlflow/images),
keyed by everything that goes into it: a second `build` finds them and builds nothing.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

from imagebuild import archive, base, cachekey, containerfile, naming, probe, steps  # noqa: E402

LOG = logging.getLogger("images")
NAMES = ("base", "mlflow", "drift")
CONTAINERD_NAMESPACE = "k8s.io"  # the namespace the kubelet's CRI plugin uses

# What each image must offer, run in it after its build (as the image's user).
CHECKS = {
    "base": [
        ["python", "-c", "import ensurepip, ssl, venv"],
        ["pip", "--version"],
        ["sh", "-c", "command -v groupadd && command -v useradd"],
    ],
    "mlflow": [["mlflow", "--version"], ["python", "-c", "import psycopg2"]],
    "drift": [["homelab-mlflow-drift", "--help"]],
}


def image_name(name: str, repo: Path = REPO) -> str:
    """The full name (registry/repository:tag) image `name` is built and imported under."""
    if name == "base":
        return base.NAME
    if name == "mlflow":
        return naming.mlflow_image(repo)[0]
    if name == "drift":
        return naming.drift_image(repo)
    raise ValueError(f"unknown image {name!r}; known: {', '.join(NAMES)}")


def containerfile_inputs(name: str, base_meta: dict, repo: Path = REPO) -> tuple[dict, list[Path]]:
    """What goes into a Containerfile image (for its cache key) and the build-context files it copies."""
    file = repo / "images" / name / "Containerfile"
    # Debian 12 ships Python 3.11, the only base made here: the MLflow Containerfile's default (3.12)
    # is overridden, the drift one's is the same.
    build_args = {"PYTHON_VERSION": base.PYTHON_VERSION}
    if name == "mlflow":
        build_args["MLFLOW_VERSION"] = naming.mlflow_image(repo)[1]
    context = repo if name == "drift" else file.parent  # as the Containerfiles' own comments say
    inputs = {
        "name": image_name(name, repo),
        "containerfile": file.read_text(),
        "build_args": build_args,
        "context": str(context.relative_to(repo)),
        "argv": containerfile.build_argv(Path("FILE"), Path("CONTEXT"), image_name(name, repo), build_args),
        "base": {"key": base_meta["key"], "packages": base_meta["packages"]},
        "buildah": steps.output(["buildah", "--version"]),
    }
    return inputs, containerfile.context_files(context, file)


def ensure(names=None) -> dict[str, Path]:
    """Build the images not cached yet; return each image's OCI archive, by name."""
    wanted = list(names or NAMES)
    for name in wanted:
        image_name(name)  # unknown names fail before any build
    root = cachekey.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    # One build at a time per cache (parallel test workers, a second terminal): the others wait and
    # then find the images cached.
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        steps.require_tools("buildah")
        base_meta = _ensure_base(root)
        found = {"base": Path(base_meta["archive"])} if "base" in wanted else {}
        for name in wanted:
            if name != "base":
                found[name] = Path(_ensure_containerfile_image(root, name, base_meta)["archive"])
    return found


def import_into(ctr: Path, address: Path, names=None) -> None:
    """Import the images' archives into containerd's k8s.io namespace, under their full names."""
    for name, path in ensure(names).items():
        started = time.monotonic()
        _ctr(ctr, address, "import", str(path))
        if image_name(name) not in _ctr(ctr, address, "list", "--quiet").split():
            raise RuntimeError(f"containerd at {address} has no {image_name(name)} after importing {path}")
        seconds = time.monotonic() - started
        LOG.info("imported %s (%s) into containerd at %s in %.1f s", image_name(name), path.name, address, seconds)


def _ctr(ctr: Path, address: Path, *images_argv: str) -> str:
    argv = [str(ctr), "--address", str(address), "--namespace", CONTAINERD_NAMESPACE, "images", *images_argv]
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (exit {result.returncode}): {result.stderr.strip()}")
    return result.stdout


def _ensure_base(root: Path) -> dict:
    steps.require_tools("mmdebstrap")
    key = cachekey.key(base.recipe())
    cached = _cached(root, "base", key)
    if cached:
        return cached
    return _build(root, "base", key, lambda log: base.build(root, log))


def _ensure_containerfile_image(root: Path, name: str, base_meta: dict) -> dict:
    inputs, files = containerfile_inputs(name, base_meta)
    context = REPO / inputs["context"]
    key = cachekey.key(inputs, files, context)
    cached = _cached(root, name, key)
    if cached:
        return cached
    _load_base(base_meta, root / "logs" / f"{name}.log")
    spec = {
        "containerfile": REPO / "images" / name / "Containerfile",
        "context": context,
        "name": inputs["name"],
        "build_args": inputs["build_args"],
    }

    def build(log: Path):
        return [containerfile.build(spec, files, root, log)], None

    return _build(root, name, key, build)


def _cached(root: Path, name: str, key: str) -> dict | None:
    meta_path = _paths(root, name, key)[1]
    if not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text())
    if not Path(meta["archive"]).is_file():
        return None
    LOG.info("%s: cached (%s, %s)", meta["image"], meta["archive"], _size(meta["size_bytes"]))
    return meta


def _build(root: Path, name: str, key: str, build) -> dict:
    """Run `build(log_file)`, check the image, export it; record its metadata beside the archive."""
    archive_path, meta_path = _paths(root, name, key)
    log_file = root / "logs" / f"{name}.log"
    full_name = image_name(name)
    LOG.info("%s: building (key %s, log %s)", full_name, key[:16], log_file)
    started = time.monotonic()
    previous = _image_ids(full_name)
    timings, packages = build(log_file)
    _remove_untagged(previous - _image_ids(full_name))
    for argv in CHECKS[name]:
        _check(full_name, argv)
    timings.append(archive.export(full_name, archive_path, log_file))
    archive.check_named(archive_path, full_name)
    meta = {
        "image": full_name,
        "key": key,
        "archive": str(archive_path),
        "size_bytes": archive_path.stat().st_size,
        "build_seconds": round(time.monotonic() - started, 1),
        "steps": timings,
        "packages": packages,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    _remove_older(root, name, keep=archive_path)
    size = _size(meta["size_bytes"])
    LOG.info("%s: built in %.1f s, archive %s (%s)", full_name, meta["build_seconds"], archive_path, size)
    return meta


def _check(image: str, argv: list[str]) -> None:
    with probe.container(image) as container:
        result = probe.run(container, argv)
    if result.returncode != 0:
        raise RuntimeError(f"{image}: `{' '.join(argv)}` failed (exit {result.returncode}): {result.stderr.strip()}")
    LOG.info("%s: `%s` works", image, " ".join(argv))


def _image_ids(image: str) -> set[str]:
    """The IDs (without `sha256:`) buildah's storage holds under `image`; none when it has none."""
    listed = subprocess.run(
        ["buildah", "images", "--no-trunc", "--noheading", "--format", "{{.ID}}", image],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return {image_id.removeprefix("sha256:") for image_id in listed}


def _remove_untagged(image_ids: set[str]) -> None:
    """Remove the images a rebuild took the name from, so buildah's storage does not grow with every
    rebuild; one still in use (a base other images' layers build on) stays."""
    for image_id in image_ids:
        removed = subprocess.run(["buildah", "rmi", image_id], capture_output=True, check=False).returncode == 0
        LOG.info("earlier image %s %s", image_id[:12], "removed" if removed else "kept (in use)")


def _load_base(base_meta: dict, log_file: Path) -> None:
    """Put the cached base into buildah's storage under its name, unless that very image is there."""
    wanted = archive.config_digest(Path(base_meta["archive"]))
    if wanted in _image_ids(base.NAME):
        return
    steps.run("load base", ["buildah", "pull", f"oci-archive:{base_meta['archive']}"], log_file)
    steps.output(["buildah", "tag", wanted, base.NAME])


def _paths(root: Path, name: str, key: str) -> tuple[Path, Path]:
    stem = f"{name}-{key[:16]}"
    return root / f"{stem}.oci.tar", root / f"{stem}.json"


def _remove_older(root: Path, name: str, keep: Path) -> None:
    for path in root.glob(f"{name}-*"):
        if path.name.split(".")[0] != keep.name.split(".")[0]:
            path.unlink()


def _size(size_bytes: int) -> str:
    return f"{size_bytes / 2**20:.1f} MiB"


def _list() -> int:
    root = cachekey.cache_root()
    for name in NAMES:
        metas = [json.loads(path.read_text()) for path in sorted(root.glob(f"{name}-*.json"))]
        if not metas:
            print(f"{name}\t{image_name(name)}\tnot built")
        for meta in metas:
            size, seconds = _size(meta["size_bytes"]), meta["build_seconds"]
            print(f"{name}\t{meta['image']}\t{meta['archive']}\t{size}\tbuilt in {seconds} s")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build what is not cached")
    build_cmd.add_argument("names", nargs="*", metavar="NAME")
    commands.add_parser("list", help="the images and their cached archives")
    import_cmd = commands.add_parser("import", help="import the archives into containerd (k8s.io)")
    import_cmd.add_argument("--address", type=Path, required=True, help="containerd's socket")
    import_cmd.add_argument("--ctr", type=Path, required=True, help="the ctr binary")
    import_cmd.add_argument("names", nargs="*", metavar="NAME")
    args = parser.parse_args(argv)
    unknown = [name for name in getattr(args, "names", []) if name not in NAMES]
    if unknown:
        parser.error(f"unknown image {', '.join(unknown)}; known: {', '.join(NAMES)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if args.command == "list":
        return _list()
    if args.command == "import":
        import_into(args.ctr, args.address, args.names or None)
        return 0
    for name, path in ensure(args.names or None).items():
        print(f"{name}\t{image_name(name)}\t{path}\t{_size(path.stat().st_size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
