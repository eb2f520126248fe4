"""Trainings the judge ran or took from its cache: for logs, benchmarks."""

_entries = []


def note(key, seconds, cached):
    """One training of an architecture, or a reuse of its cached result."""
    _entries.append({"architecture": key[:12], "seconds": round(seconds, 2),
                     "cached": bool(cached)})


def take():
    """The entries noted since the last call."""
    entries = list(_entries)
    _entries.clear()
    return entries
