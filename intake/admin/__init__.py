"""Intake admin: the coordinator's worklist, clients, consents and the waitlist."""

from . import clients, inquiries, waitlist

__all__ = ["clients", "inquiries", "waitlist"]
