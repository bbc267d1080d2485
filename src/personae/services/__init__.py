"""personae.services."""
