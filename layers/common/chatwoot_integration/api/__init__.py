"""The platform API (the api function): routes, authorization from JWT claims, error mapping."""
