"""personae.cli."""
