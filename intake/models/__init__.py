"""Who asks for care: inquiries and their safety screen, clients, consents, waitlist."""

from .clients import Client, Consent, MedicalRecordNumberCounter
from .common import LevelOfCare, Schedule, phone_digits
from .inquiries import (
    HighRiskInquiry,
    Inquiry,
    InquiryStatusChange,
    PresentingConcern,
    RiskLevel,
)
from .waitlist import WaitlistEntry

__all__ = [
    "Client",
    "Consent",
    "HighRiskInquiry",
    "Inquiry",
    "InquiryStatusChange",
    "LevelOfCare",
    "MedicalRecordNumberCounter",
    "PresentingConcern",
    "RiskLevel",
    "Schedule",
    "WaitlistEntry",
    "phone_digits",
]
