"""Repositories own the SQL. Each takes a connection; the service that calls it owns the transaction."""
