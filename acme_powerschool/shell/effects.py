"""The only place where time and randomness are named; everything else receives them."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import attrs


@attrs.frozen
class Effects:
    """Clock, sleep and jitter as values, so tests can pass their own."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random


REAL = Effects()
