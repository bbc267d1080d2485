"""personae.http."""
