"""Run the small dense fits single-threaded.

Many tiny GLM/SLSQP fits on a shared machine are 10-30x slower when OpenBLAS spreads each
one over every core (measured: 0.35 s against 10.7 s for one 1,920 x 136 Poisson fit).

Setting the limit costs about 2.5 ms (threadpoolctl inspects the loaded libraries), a tenth
of a placebo scheme's whole evaluation, so a region nested inside one already limited (the
fits inside a placebo run) sets nothing. The limit is process-wide, as BLAS's setting is.
"""

from __future__ import annotations

import contextlib

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # optional: without it the fits are just slower on busy machines
    threadpool_limits = None

_depth = 0  # how many single_thread regions are open


@contextlib.contextmanager
def single_thread():
    global _depth
    if threadpool_limits is None or _depth:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
