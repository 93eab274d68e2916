# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""python -m onepassword_connect (from tools/standins): run the fake server (see server.py)."""

from __future__ import annotations

import sys

from .server import main

sys.exit(main())
