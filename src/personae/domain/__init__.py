"""Pure rules of personae: no I/O, no clock, no adapters."""
