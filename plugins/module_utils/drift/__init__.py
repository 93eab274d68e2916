# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The drift report of playbooks/drift.yml, read by the callback homelab.mlflow.drift_report.

model: what differs, per object and field, and per target; credential rotations.
results: task results (the engine's and other modules') read as drift.
report: one run's report: collects results, decides the status and exit code, as JSON.
markdown: the report as Markdown for people.
blueprint_yaml: YAML with Authentik's application tags kept as values (blueprint diffs).
"""
