"""Building blocks of the scenario schema: a documented parameter and a strict table."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def param(
    default: Any,
    *,
    source: str,
    description: str,
    ge: float | None = None,
    le: float | None = None,
    strict: bool | None = None,
) -> Any:
    """A scenario parameter: a default, a closed valid range, what it means and where it comes from.

    `strict=False` lets a TOML array fill a tuple field; the items stay strictly typed.
    """
    return Field(
        default,
        ge=ge,
        le=le,
        description=description,
        strict=strict,
        json_schema_extra={"source": source},
    )


class Section(BaseModel):
    """A table of a scenario file: unknown keys and loose types are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
