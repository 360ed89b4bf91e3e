"""Window aggregates kept at ingest, so a detection run costs the same at any traffic.

``layout`` fixes the bins from a reference, ``partial`` is one bucket's sums and their codec,
``accumulate`` turns a batch of stored events (or labelled pairs) into partials, and the
storage modules append, read, compact, rebuild and expire them. See ``docs/architecture.md``.
"""
