"""The programs admin, one module per part of the work (Django imports this package)."""

from . import core, measures, plans

__all__ = ["core", "measures", "plans"]
