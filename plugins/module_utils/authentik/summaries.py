# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the modules return of an outpost, a proxy provider and an application: the fields that hold no secret."""

from __future__ import annotations


def outpost_summary(outpost):
    """The fields of an outpost the modules return (its config holds no secret)."""
    if outpost is None:
        return {}
    return {
        "pk": str(outpost.pk),
        "name": outpost.name,
        "type": getattr(outpost.type, "value", outpost.type),
        "managed": outpost.managed,
        "providers": list(outpost.providers),
        "provider_names": [provider.name for provider in outpost.providers_obj or []],
        "config": dict(outpost.config or {}),
    }


def provider_summary(provider):
    """The fields of a proxy provider (a dict, as the API gives it) the modules return."""
    if not provider:
        return {}
    fields = (
        "pk",
        "name",
        "mode",
        "external_host",
        "internal_host",
        "intercept_header_auth",
        "skip_path_regex",
        "authorization_flow",
        "invalidation_flow",
        "authentication_flow",
        "assigned_application_slug",
    )
    return {field: provider.get(field) for field in fields}


def application_summary(application):
    """The fields of an application (a dict, as the API gives it) the modules return."""
    if not application:
        return {}
    fields = ("pk", "slug", "name", "group", "meta_launch_url", "launch_url", "provider")
    return {field: application.get(field) for field in fields}
