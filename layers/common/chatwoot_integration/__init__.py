"""Chatwoot ⇄ legal-platform integration: the code shared by every Lambda function (the common layer)."""
