"""The operator stand-ins import their shared plumbing (`_base`, `_cnpg_postgres`) by name, as they do when run."""

from __future__ import annotations

import sys
from pathlib import Path

OPERATORS = Path(__file__).resolve().parents[5] / "tools" / "standins" / "operators"
sys.path.insert(0, str(OPERATORS))
