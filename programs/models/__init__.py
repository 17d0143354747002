"""What the clinic runs and who is in it: programs, tracks, enrollments, seat offers,
sessions and outcome measures."""

from .catalog import (
    LEVEL_DEFAULTS,
    Program,
    ScheduleBlock,
    Service,
    Track,
    TrackSchedule,
)
from .emergency import EmergencyAccess
from .enrollment import DischargeType, Enrollment, HoldPeriod, Placement, SeatOffer
from .measures import Assessment
from .plans import (
    Acknowledgement,
    ObjectiveReview,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanReview,
    PlanStatus,
    ReviewDecision,
    TreatmentPlan,
)
from .sessions import Appointment, Attendance, GroupSession

__all__ = [
    "Acknowledgement",
    "ObjectiveReview",
    "ObjectiveStatus",
    "PlanGoal",
    "PlanIntervention",
    "PlanObjective",
    "PlanProblem",
    "PlanReview",
    "PlanStatus",
    "ReviewDecision",
    "TreatmentPlan",
    "Appointment",
    "Assessment",
    "Attendance",
    "GroupSession",
    "LEVEL_DEFAULTS",
    "DischargeType",
    "EmergencyAccess",
    "Enrollment",
    "HoldPeriod",
    "Placement",
    "Program",
    "ScheduleBlock",
    "SeatOffer",
    "Service",
    "Track",
    "TrackSchedule",
]
