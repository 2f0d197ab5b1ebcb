"""Run the small dense fits single-threaded.

Many tiny GLM/SLSQP fits on a shared machine are 10-30x slower when OpenBLAS spreads each
one over every core (measured: 0.35 s against 10.7 s for one 1,920 x 136 Poisson fit).
"""

from __future__ import annotations

import contextlib

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # optional: without it the fits are just slower on busy machines
    threadpool_limits = None


def single_thread():
    if threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
