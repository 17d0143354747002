"""The paginator for very large admin lists lives in the lowest app, intake, so every
app can use it; this name stays for the programs admins."""

from intake.pagination import EstimatedCountPaginator

__all__ = ["EstimatedCountPaginator"]
