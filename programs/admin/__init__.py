"""The programs admin, one module per part of the work (Django imports this package)."""

from . import core, emergency, measures, plans

__all__ = ["core", "emergency", "measures", "plans"]
