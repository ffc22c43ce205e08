"""Services: one use case each, owning its transaction; handlers call them, they call repositories and clients."""
