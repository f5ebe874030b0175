"""The names of the /ws/v1 families the sync reads: a module without dlt, so the command line
can offer them as choices without loading the sync."""

from __future__ import annotations

__all__ = ["DEFAULT_RESOURCES", "FAMILIES"]

FAMILIES = (
    "district",
    "schools",
    "students",
    "staff",
    "sections",
    "section_enrollments",
    "terms",
    "courses",
)
"""The /ws/v1 resource families the source can read."""

DEFAULT_RESOURCES = ("district", "schools", "students", "staff", "sections", "terms", "courses")
"""Read when nothing is chosen. Section enrollments cost one request per section, so they are
asked for by name (or read as the CC table)."""
