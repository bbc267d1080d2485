"""personae: digital identity and accountability for virtual worlds."""

__version__ = "0.1.0"
