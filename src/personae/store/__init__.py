"""personae.store."""
