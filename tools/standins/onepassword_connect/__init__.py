# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A fake 1Password Connect server validated against the upstream OpenAPI document (see server.py)."""

from __future__ import annotations

from .server import EXAMPLE_DATA, FakeConnectServer, fake_id, load_data, spec_path

__all__ = ["EXAMPLE_DATA", "FakeConnectServer", "fake_id", "load_data", "spec_path"]
