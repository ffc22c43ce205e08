"""The scheduled sync that keeps the mirror true to Chatwoot (see ``service`` for what one run does).

- ``models``: the scheduler's event, the tunables, the resume state and the report.
- ``service``: :class:`~chatwoot_integration.sync.service.SyncService`, one run over the integrations, each under
  its lease.
- ``agents``, ``passes``, ``messages``: the steps (agents and membership; conversations, contacts and deletions;
  message catch-up). Their SQL is in ``repositories/sync.py``; Chatwoot's shapes are mapped by ``mapping``.
- ``budget``, ``runtime``: the time budget, and the deadlines of the Lambda handler and of the API route.
"""
