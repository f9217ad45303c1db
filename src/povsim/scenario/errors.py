"""Input errors a user can act on: which file, which key, what value, what was expected."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    key_path: str
    message: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        where = f"{self.file}: {self.key_path}" if self.key_path else self.file
        if self.has_value:
            return f"{where} = {_show(self.value)}: {self.message}"
        return f"{where}: {self.message}"


class InputError(Exception):
    """Bad input from the user: reported without a traceback, exit code 2."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def problem(file: str, key_path: str, message: str, *value: Any) -> InputError:
    """An InputError with a single problem; pass a value to have it shown."""
    return InputError([Problem(file, key_path, message, value[0] if value else None, bool(value))])


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
