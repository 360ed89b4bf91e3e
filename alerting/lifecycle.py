"""The alert state machine, as a pure function of the previous state and one evaluation.

States: ``inactive`` → ``pending`` → ``firing`` → ``resolved``. An alert fires when its condition
held in ``for_runs`` of the last ``of_runs`` evaluations (``for_runs == of_runs`` means that many
consecutive runs), and resolves after ``clear_runs`` consecutive clear evaluations. Hysteresis in
both directions is what keeps one noisy window from paging anybody, and one quiet window from
resolving an alert that will fire again at the next run.

>>> s = Step.initial()
>>> s = s.next(True, for_runs=2, of_runs=3, clear_runs=2); s.state
'pending'
>>> s = s.next(True, for_runs=2, of_runs=3, clear_runs=2); s.state
'firing'
>>> s = s.next(False, for_runs=2, of_runs=3, clear_runs=2); s.state
'firing'
>>> s = s.next(False, for_runs=2, of_runs=3, clear_runs=2); s.state
'resolved'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["STATES", "State", "Step"]

State = Literal["inactive", "pending", "firing", "resolved"]
STATES: tuple[State, ...] = ("inactive", "pending", "firing", "resolved")


@dataclass(frozen=True, slots=True)
class Step:
    """An alert's lifecycle position: its state, the recent outcomes (newest last) and how many
    clear evaluations in a row it has seen while firing."""

    state: State
    recent: tuple[bool, ...]
    clear_streak: int

    @classmethod
    def initial(cls) -> Step:
        return cls("inactive", (), 0)

    def next(self, active: bool, *, for_runs: int, of_runs: int, clear_runs: int) -> Step:
        """The state after one more evaluation whose condition was ``active``.

        >>> Step.initial().next(True, for_runs=1, of_runs=1, clear_runs=1).state
        'firing'
        >>> p = Step("pending", (True,), 0).next(False, for_runs=2, of_runs=3, clear_runs=1)
        >>> p.state, p.recent  # one hit is still within the last three runs
        ('pending', (True, False))
        >>> Step("pending", (True, False), 0).next(
        ...     False, for_runs=2, of_runs=2, clear_runs=1).state
        'inactive'
        """
        if not 1 <= for_runs <= of_runs or clear_runs < 1:
            raise ValueError("need 1 <= for_runs <= of_runs and clear_runs >= 1")
        recent = (*self.recent, active)[-of_runs:]
        if self.state == "firing":
            if active:
                return Step("firing", recent, 0)
            streak = self.clear_streak + 1
            if streak >= clear_runs:
                return Step("resolved", (), 0)
            return Step("firing", recent, streak)
        if sum(recent) >= for_runs:
            return Step("firing", recent, 0)
        if active or (self.state == "pending" and any(recent)):
            return Step("pending", recent, 0)
        if self.state == "pending":
            return Step("inactive", recent, 0)
        return Step(self.state, recent, 0)  # inactive or resolved stays so

    @property
    def notifies(self) -> bool:
        """Whether reaching this state is something to tell people about."""
        return self.state in ("firing", "resolved")
