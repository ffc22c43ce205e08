"""Webhook ingestion: the webhook function verifies and enqueues, the processor applies each delivery once.

Modules are imported by name, never from here: the webhook function runs without database access and must
not load the processor's dependencies (psycopg) at cold start.

- ``record``: the queued record (raw body, delivery id, integration, receive time) and its SQS envelope.
- ``queue``: where the webhook function puts records (SQS, in-process, in memory).
- ``receive``: verification and enqueueing of one webhook request.
- ``mapping``: Chatwoot webhook shapes to the mirror's models.
- ``process``: deliveries applied to the mirror (dedupe, account check, mirror, outbox), a batch at a time.
- ``batch``: the SQS batch entry point shared by the processor function and the in-process queue.
- ``telemetry``: the ingest metrics and log keys.
"""
