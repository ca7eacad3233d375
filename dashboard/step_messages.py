"""What the dashboard says about a step a person took on an alarm or a tag (acknowledge,
shelve, comment, write, and every refusal of one): one sentence, two readings.

The person reads it in their own language (the flash message, the HTMX answer, the error
answer). The audit row stores it in English: the record is one text for every reader,
searchable, and exported for auditors. So a sentence is built once, as a StepMessage of a
lazily translated text with named parts, and read either way:

    said = StepMessage(_("%(name)s is no longer active; nothing was sent."), name=name)
    AuditEntry(message=said.english, ...)   # recorded
    str(said)                               # shown, in the active language

A part is shown as it is (plant data, WinCC's own words), or is itself read in the
language: another StepMessage, a lazy string, a Number (decimal comma in German) or a
Moment (a date as the language writes it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from dashboard import numbers
from dashboard.templatetags import plant_words
from wincc_bridge.models import AlarmState


class StepMessage:
    """A sentence with named parts; str() reads it in the active language."""

    __slots__ = ("parts", "text")

    def __init__(self, text: str | Promise, **parts: Any) -> None:
        self.text = text
        self.parts = parts

    def __str__(self) -> str:
        if not self.parts:
            return str(self.text)
        # On the lazy text itself: a plural (ngettext_lazy) picks its form from the parts.
        return str(self.text % {name: _read(part) for name, part in self.parts.items()})

    def __repr__(self) -> str:
        return f"StepMessage({self.english!r})"

    def __eq__(self, other: object) -> bool:
        # The same sentence whatever its language: compared as recorded.
        if isinstance(other, StepMessage):
            return self.english == other.english
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.english)

    @property
    def english(self) -> str:
        """The sentence as the audit row records it."""
        with translation.override("en"):
            return str(self)


class Number:
    """A number as written in English ("63.5", "1e-05"), read with the language's decimal
    sign: the digits stay those recorded."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __bool__(self) -> bool:
        return bool(self.text)

    def __str__(self) -> str:
        return numbers.in_language(self.text)


class Moment:
    """A UTC time: `english` is its strftime format in the record; other languages write it
    as Django's `localized` format (date_format)."""

    __slots__ = ("at", "english", "localized")

    def __init__(self, at: datetime, english: str, localized: str) -> None:
        self.at, self.english, self.localized = at, english, localized

    def __str__(self) -> str:
        if translation.get_language() in (None, "en"):
            return self.at.strftime(self.english)
        return formats.date_format(self.at, self.localized)


def _read(part: Any) -> Any:
    if isinstance(part, StepMessage | Number | Moment | Promise):
        return str(part)
    return part


def english(message: str | StepMessage) -> str:
    """What the audit row records of `message`."""
    return message.english if isinstance(message, StepMessage) else str(message)


# An alarm state inside a sentence: the same words as its label on every page.
def state_word(state: AlarmState) -> Promise:
    return plant_words.STATES[state]


# The refusals said in more than one place.
NOTHING_READABLE = _("The live alarm state cannot be read right now; nothing was sent to WinCC.")


def unknown_site(site_id: str) -> StepMessage:
    return StepMessage(_("Unknown site %(site)s."), site=repr(site_id))


def malformed(problem: Any) -> StepMessage:
    return StepMessage(_("Malformed request: %(problem)s"), problem=problem)
