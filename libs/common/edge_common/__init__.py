"""Contracts shared by every Edge process: settings, errors, names, line protocol, wire formats."""

__all__ = ["__version__"]

__version__ = "0.1.0"
