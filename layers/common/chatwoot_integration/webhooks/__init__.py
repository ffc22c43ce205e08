"""Chatwoot webhook deliveries: authenticity (``signature``, ``timestamps``), the body models (``shapes``, the
events and their parser in ``payloads``), duplicate detection (``keys``) and the payload error (``errors``).

Modules are imported by name, never from here, so importing one (the signature check in the webhook function)
does not load the others (the pydantic models).
"""
