"""The only place that touches key material: sealing, keys, pseudonyms, JOSE."""
