# Copyright (c) homelab.mlflow maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes quantities (`50Gi`, `500Mi`, `100m`, `1.5`) as the roles accept them.

Plain decimal numbers with an optional binary (Ki ... Ei) or decimal (k ... E, m) suffix; the
exponent form (1e3) is refused, so that sizes compare exactly. Values are exact fractions.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

_QUANTITY = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)(?P<suffix>m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
MULTIPLIERS = {
    "": Fraction(1),
    "m": Fraction(1, 1000),
    **{suffix: Fraction(1000**power) for power, suffix in enumerate("kMGTPE", start=1)},
    **{suffix + "i": Fraction(1024**power) for power, suffix in enumerate("KMGTPE", start=1)},
}


def _text(value) -> str | None:
    """Numbers as YAML may have typed them (`cpu: 1`) count as their text; booleans and the rest do not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def parse(value) -> Fraction | None:
    """The quantity's value (bytes for a size, cores for CPU), or None when it is not a quantity."""
    text = _text(value)
    match = _QUANTITY.fullmatch(text) if text is not None else None
    if match is None:
        return None
    return Fraction(match["number"]) * MULTIPLIERS[match["suffix"] or ""]


def is_quantity(value, *, positive: bool = True, milli: bool = True) -> bool:
    """A quantity, above zero when `positive`; `milli` allows the suffix m (CPU, never a size)."""
    amount = parse(value)
    if amount is None or (not milli and str(value).endswith("m")):
        return False
    return amount > 0 or not positive


def is_size(value) -> bool:
    """A positive size: a quantity without the suffix m, such as 50Gi or 100G."""
    return is_quantity(value, positive=True, milli=False)


def to_bytes(value) -> int:
    """The size in whole bytes (rounded up, as Kubernetes does); ValueError when it is not a quantity."""
    amount = parse(value)
    if amount is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity")
    return math.ceil(amount)
