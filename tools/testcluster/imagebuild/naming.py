"""The names the roles deploy the images under by default, read from their defaults."""

from __future__ import annotations

from pathlib import Path

import yaml


def _defaults(repo: Path, role: str) -> dict:
    return yaml.safe_load((repo / "roles" / role / "defaults" / "main.yml").read_text())


def mlflow_image(repo: Path) -> tuple[str, str]:
    """(<mlflow_image>:<mlflow_version>, mlflow_version): the role's Deployment runs that tag."""
    defaults = _defaults(repo, "mlflow")
    version = str(defaults["mlflow_version"])
    return f"{defaults['mlflow_image']}:{version}", version


def drift_image(repo: Path) -> str:
    """drift_cronjob_image when its default names one; else localhost/homelab-mlflow-drift:<collection version>.

    The role has no default image (it must be pushed to a registry of the user's): the local name
    follows podman's convention for images built here, tagged with the collection release, which is
    what the Containerfile says to build it for.
    """
    configured = _defaults(repo, "drift_cronjob").get("drift_cronjob_image") or ""
    if configured:
        return configured
    version = yaml.safe_load((repo / "galaxy.yml").read_text())["version"]
    return f"localhost/homelab-mlflow-drift:{version}"
