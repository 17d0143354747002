"""The programs admin, one module per part of the work (Django imports this package)."""

from . import core, plans

__all__ = ["core", "plans"]
