"""User-facing input errors: one message naming file, field, value and what is allowed."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input (scenario, CSV, CLI argument). The CLI prints `str(err)` and exits with 2.

    Args:
        file: the file the bad input came from (None for a CLI argument or Python call).
        field: dotted field path (``benefits.resident.inpatient.rate.township``) or CSV column.
        value: the offending value, as the user wrote it.
        allowed: what is allowed instead, in plain words.
        row: 1-based data row for CSV input (header excluded), if any.
    """

    def __init__(
        self,
        file: str | Path | None,
        field: str,
        value: object,
        allowed: str,
        *,
        row: int | None = None,
    ) -> None:
        self.file = None if file is None else str(file)
        self.field = field
        self.value = value
        self.allowed = allowed
        self.row = row
        super().__init__(self._message())

    def _message(self) -> str:
        where = self.file or "input"
        if self.row is not None:
            where += f", row {self.row}"
        shown = repr(self.value) if not isinstance(self.value, str) else f"'{self.value}'"
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{where}: {self.field} = {shown}: {self.allowed}"
