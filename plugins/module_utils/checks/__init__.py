# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of the roles' values, before the cluster is contacted: pure functions, one job each.

The building blocks (quantities, names, network, schedules, images, resources) answer whether one
value is allowed; `roles/` holds each role's rules, which name the variable and what is allowed.
"""
