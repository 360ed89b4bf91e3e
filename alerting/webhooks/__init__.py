"""Outgoing webhooks: endpoints, Standard Webhooks signatures, encrypted secrets, the SSRF guard
and the durable outbox with its dispatcher. See ``docs/webhooks.md``.

Modules: :mod:`.records` (API shapes), :mod:`.endpoints` and :mod:`.deliveries` (the domain
operations behind ``/v1/webhooks``), :mod:`.outbox` (enqueueing, in the caller's transaction),
:mod:`.dispatcher` (sending what is due), :mod:`.schedule` (retries), :mod:`.sender` (one HTTP
attempt), :mod:`.ssrf`, :mod:`.signing`, :mod:`.secrets`.
"""

__all__: list[str] = []
