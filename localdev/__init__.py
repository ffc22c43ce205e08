"""Local development: the embedded PostgreSQL, the local API runner, tokens and replay commands."""
