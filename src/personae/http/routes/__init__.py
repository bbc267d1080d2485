"""personae.routes."""
