"""Domain models shared by the services, repositories and handlers."""
