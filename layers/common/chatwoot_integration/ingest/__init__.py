"""Webhook ingestion: the webhook function verifies and enqueues, the processor applies each delivery once.

Modules are imported by name, never from here: the webhook function runs without database access and must
not load the processor's dependencies (psycopg) at cold start.

- ``record``: the queued record (raw body, delivery id, integration, receive time) and its SQS envelope.
- ``queue``: where the webhook function puts records (SQS, in-process, in memory).
- ``receive``: verification and enqueueing of one webhook request.
- ``processor``: the SQS batch path and the delivery-by-delivery fallback, failures and replay.
- ``dispatch``: a body parsed, judged and handed to its event family: ``conversations``, ``messages``,
  ``contacts``, ``presence`` (recorded only); each maps its events to rows and writes a batch of them.
- ``ledger``: the dedupe ledger (claims, duplicates, retries of failed deliveries).
- ``delivery``: a delivery's verdict, its state inside a unit of work, and its result.
- ``telemetry``: the ingest metrics and log keys.
"""
