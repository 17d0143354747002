"""The outcome measures a clinician administers, each one definition: its items, answer
scale, severity bands and the cut-offs the outcome flags use (DOMAIN.md section 4).

Adding an instrument is one more ``Instrument`` in ``INSTRUMENTS`` (and a migration for
the model's choices and its score-range constraint); nothing else changes. Scores are
computed here from the item answers, never typed (DOMAIN.md section 4).

PHQ-9 and GAD-7 were developed by Drs. Spitzer, Williams, Kroenke and colleagues with an
educational grant from Pfizer; no permission is required to reproduce, translate,
display or distribute them. The item wording below is the published English version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

# The shared answer scale of PHQ-9 and GAD-7, scored 0-3.
FREQUENCY_ANSWERS = (
    "Not at all",
    "Several days",
    "More than half the days",
    "Nearly every day",
)

# Severity bands across instruments, in increasing order; an instrument uses a subset.
SEVERITIES: dict[str, str] = {
    "minimal": "Minimal",
    "mild": "Mild",
    "moderate": "Moderate",
    "moderately_severe": "Moderately severe",
    "severe": "Severe",
}


@dataclass(frozen=True)
class Instrument:
    """One questionnaire: what it asks, how it is scored, and what its scores mean."""

    code: str
    name: str
    short_name: str
    question: str
    items: tuple[str, ...]
    # (highest total in the band, severity code), lowest band first; the last band's
    # bound is the instrument's maximum total.
    bands: tuple[tuple[int, str], ...]
    # A drop at least this large is a reliable improvement (DOMAIN.md section 4).
    reliable_change: int
    # A total at or above this is a "case" (clinical range) (DOMAIN.md section 4).
    caseness_cutoff: int
    # A latest total below this is remission; None where the instrument defines none.
    remission_below: int | None
    # The item (numbered from 1) whose answer above 0 needs a clinician's follow-up
    # whatever the total; None where there is none.
    safety_item: int | None
    source: str
    answers: tuple[str, ...] = FREQUENCY_ANSWERS

    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def highest_answer(self) -> int:
        return len(self.answers) - 1

    @property
    def max_total(self) -> int:
        return self.item_count * self.highest_answer

    def validate(self, answers: Any) -> None:
        """Raise ValidationError, naming each problem, unless ``answers`` is one whole
        number from the answer scale per item."""
        if not isinstance(answers, list | tuple):
            raise ValidationError(
                f"The {self.short_name} answers must be a list of {self.item_count} "
                "numbers."
            )
        errors = []
        if len(answers) != self.item_count:
            errors.append(
                f"The {self.short_name} has {self.item_count} items: each needs an "
                f"answer ({len(answers)} given)."
            )
        for number, answer in enumerate(answers, start=1):
            # bool is an int subclass: True is not an answer.
            if not isinstance(answer, int) or isinstance(answer, bool):
                errors.append(
                    f"{self.short_name} item {number}: the answer must be a whole "
                    f"number from 0 to {self.highest_answer}."
                )
            elif not 0 <= answer <= self.highest_answer:
                errors.append(
                    f"{self.short_name} item {number}: {answer} is not an answer; "
                    f"answers are 0 ({self.answers[0]}) to {self.highest_answer} "
                    f"({self.answers[-1]})."
                )
        if errors:
            raise ValidationError(errors)

    def total(self, answers: Sequence[int]) -> int:
        """The sum of the item answers (validated first)."""
        self.validate(answers)
        return sum(answers)

    def band(self, total: int) -> str:
        """The severity code of a total, from the published table."""
        if not 0 <= total <= self.max_total:
            raise ValueError(f"{self.short_name} totals are 0 to {self.max_total}.")
        return next(code for upper, code in self.bands if total <= upper)

    def band_label(self, total: int) -> str:
        return SEVERITIES[self.band(total)]

    def safety_flag(self, answers: Sequence[int]) -> bool:
        """True when the safety item is answered above 0 (validated first)."""
        self.validate(answers)
        return self.safety_item is not None and answers[self.safety_item - 1] > 0

    def is_case(self, total: int) -> bool:
        """In the clinical range ("caseness", DOMAIN.md section 4)."""
        return total >= self.caseness_cutoff


PHQ9 = Instrument(
    code="phq9",
    name="Patient Health Questionnaire-9 (depression)",
    short_name="PHQ-9",
    question=(
        "Over the last 2 weeks, how often have you been bothered by any of the "
        "following problems?"
    ),
    items=(
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself — or that you are a failure or have let yourself "
        "or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching "
        "television",
        "Moving or speaking so slowly that other people could have noticed? Or the "
        "opposite — being so fidgety or restless that you have been moving around a "
        "lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ),
    # Kroenke, Spitzer & Williams 2001, J Gen Intern Med 16:606-613; DOMAIN.md s. 4.
    bands=(
        (4, "minimal"),
        (9, "mild"),
        (14, "moderate"),
        (19, "moderately_severe"),
        (27, "severe"),
    ),
    reliable_change=6,
    caseness_cutoff=10,
    remission_below=5,
    # Item 9: thoughts of being better off dead or of self-harm (DOMAIN.md s. 4).
    safety_item=9,
    source="Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16:606-613.",
)

GAD7 = Instrument(
    code="gad7",
    name="Generalized Anxiety Disorder-7 (anxiety)",
    short_name="GAD-7",
    question=(
        "Over the last 2 weeks, how often have you been bothered by the following "
        "problems?"
    ),
    items=(
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ),
    # Spitzer, Kroenke, Williams & Löwe 2006, Arch Intern Med 166:1092-1097;
    # DOMAIN.md s. 4.
    bands=((4, "minimal"), (9, "mild"), (14, "moderate"), (21, "severe")),
    reliable_change=4,
    caseness_cutoff=8,
    remission_below=None,
    safety_item=None,
    source="Spitzer RL, Kroenke K, Williams JB, Löwe B. Arch Intern Med "
    "2006;166:1092-1097.",
)

INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument for instrument in (PHQ9, GAD7)
}
