"""User-facing input errors: one message naming file, field, value and what is allowed."""

from __future__ import annotations

from pathlib import Path

_ESCAPED = {ord(c): repr(c)[1:-1] for c in "\n\r\t\v\f\x1c\x1d\x1e\x85\u2028\u2029"}
"""Line breaks and tabs shown as escapes (\\n), so that an error is always one line."""


class InputError(Exception):
    """Bad user input (scenario, CSV, CLI argument). The CLI prints `str(err)` and exits with 2.

    Args:
        file: the file the bad input came from (None for a CLI argument or Python call: the
            message then starts with ``field``, e.g. ``--days = 'abc': ...``).
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
        where = self.file
        if self.row is not None:
            where = f"{where or 'input'}, row {self.row}"
        shown = repr(self.value) if not isinstance(self.value, str) else f"'{self.value}'"
        if len(shown) > 80:
            shown = shown[:77] + "..."
        text = f"{self.field} = {shown}: {self.allowed}"
        text = f"{where}: {text}" if where else text  # a CLI option names itself: --days = ...
        return text.translate(_ESCAPED)  # one line, whatever the value holds
