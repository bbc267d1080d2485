"""The attribute catalog shipped with personae (default.toml), read through importlib.resources."""
