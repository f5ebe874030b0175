"""The only place where time, randomness and the process environment are named; everything
else receives them."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping

import attrs


def _environ() -> Mapping[str, str]:
    return os.environ


@attrs.frozen
class Effects:
    """Clock, sleep, jitter and environment as values, so tests can pass their own."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    environ: Callable[[], Mapping[str, str]] = _environ


REAL = Effects()
