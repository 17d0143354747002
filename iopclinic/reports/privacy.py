"""The "<5" rule (DOMAIN.md section 7): a report shows aggregates only, and no number
that would describe fewer than 5 people.

- Primary suppression: a cell about 1 to 4 people is shown as "<5". A count of 0
  describes nobody and is shown as 0. A rate, mean or median whose population (the
  people in its denominator) is 1 to 4 is shown as "<5"; with no one in the
  denominator it has no value and shows "–".
- Complementary suppression: in a row or column whose total is shown, one hidden cell
  could be subtracted back from the total, so the smallest other cell of that line is
  hidden too (the smallest non-zero one if there is one; the total itself if there is
  no other cell). This repeats until no line has exactly one hidden cell.
- A cell that would give hidden cells away (a share beside its count, a rate computed
  from them) is hidden with them.
"""

from __future__ import annotations

from collections.abc import Iterable

from .base import Cell, ReportResult, Table

THRESHOLD = 5


def is_small(cell: Cell) -> bool:
    """True when the cell describes 1 to THRESHOLD - 1 people."""
    return (
        cell.people is not None
        and cell.value is not None
        and 0 < cell.people < THRESHOLD
    )


def _lines(table: Table) -> list[list[Cell]]:
    """The additive lines of a table: each a list of additive cells ending with
    their total."""
    lines: list[list[Cell]] = []
    if table.total_column:
        for row in table.rows:
            lines.append([cell for cell in row.cells if cell.additive])
    if table.total_row and table.rows:
        width = len(table.rows[0].cells)
        for column in range(width):
            cells = [row.cells[column] for row in table.rows]
            if all(cell.additive for cell in cells):
                lines.append(cells)
    return [line for line in lines if len(line) >= 2]


def _protect(line: list[Cell]) -> bool:
    """Hide a second cell of a line with exactly one hidden cell; True if it did."""
    hidden = [cell for cell in line if cell.suppressed]
    if len(hidden) != 1:
        return False
    parts = [cell for cell in line[:-1] if not cell.suppressed]
    nonzero = [cell for cell in parts if cell.value]
    candidates = nonzero or parts or line[-1:]
    min(candidates, key=lambda cell: cell.value or 0).suppressed = True
    return True


def suppress_table(table: Table) -> None:
    """Primary then complementary suppression of one table's cells."""
    for cell in table.cells():
        if is_small(cell):
            cell.suppressed = True
    lines = _lines(table)
    changed = True
    while changed:
        changed = False
        for line in lines:
            changed = _protect(line) or changed


def suppress_cells(cells: Iterable[Cell]) -> None:
    """Primary suppression of cells outside an additive table, then followers."""
    cells = list(cells)
    for cell in cells:
        if is_small(cell):
            cell.suppressed = True
    _hide_followers(cells)


def _hide_followers(cells: list[Cell]) -> None:
    changed = True
    while changed:
        changed = False
        for cell in cells:
            if not cell.suppressed and any(other.suppressed for other in cell.follows):
                cell.suppressed = changed = True


def suppress(result: ReportResult) -> ReportResult:
    """Apply the whole rule to a report, in place; returns it for chaining."""
    cells = [cell for section in result.sections for cell in section.cells()]
    tables = [table for section in result.sections for table in section.tables]
    # A follower hidden inside a table can leave a line with one hidden cell again.
    while True:
        hidden = sum(cell.suppressed for cell in cells)
        for table in tables:
            suppress_table(table)
        suppress_cells(cells)
        if sum(cell.suppressed for cell in cells) == hidden:
            return result
