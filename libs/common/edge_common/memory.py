"""How each Edge process asks the C allocator to treat freed memory.

A query's numpy arrays (a few MB each for 400,000 rows) are made and freed many times per
second. glibc gives blocks above its mmap threshold (dynamically ~128 KiB-32 MiB) back to
the kernel on free, and trims the heap top above 128 KiB: the next array of the same size
then faults in every page again, zero-filled. Measured on the TSBS double-groupby (432,000
rows, mean by hour and host), numpy's part took 27.7 ms, 60 % of it page faults; with freed
memory kept in the heap, 10.9 ms. Arrow's own buffers come from its pool, which keeps
memory already.

Kept: blocks under 32 MiB come from the heap, and up to 128 MiB of free heap top stays
mapped (the process's resident size may stay that much above what it uses).
"""

from __future__ import annotations

import ctypes
import logging

__all__ = ["keep_freed_memory"]

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (see the module); False where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
    if not ok:
        log.warning("the C allocator refused its thresholds; freed memory goes back at once")
    return ok
