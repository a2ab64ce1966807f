"""Give the heap's free memory back to the operating system (glibc's malloc_trim).

The worker's pool is threads: glibc gives each thread an arena of its own and keeps what a big task freed there
(a catalogue sync of 1,000 apps) for later, so the worker's footprint stayed at its peak for good. Elsewhere (musl,
another libc) this does nothing.
"""

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def heap_trim() -> bool:
    """Return free heap pages of every arena to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
