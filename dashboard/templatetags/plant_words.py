"""The plant's fixed words in the viewer's language: an alarm's state, a value's quality, a
priority band, a site's freshness. The stored values stay English keys (wincc_bridge)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wincc_bridge.models import AlarmState, PriorityBand, Quality

register = template.Library()

STATES = {
    AlarmState.NORMAL: _("Normal"),
    AlarmState.UNACKNOWLEDGED: _("Unacknowledged"),
    AlarmState.ACKNOWLEDGED: _("Acknowledged"),
    AlarmState.RETURNED_UNACKNOWLEDGED: _("Returned to normal, unacknowledged"),
    AlarmState.LATCHED_UNACKNOWLEDGED: _("Latched, unacknowledged"),
    AlarmState.LATCHED_ACKNOWLEDGED: _("Latched, awaiting reset"),
    AlarmState.SHELVED: _("Shelved"),
    AlarmState.SUPPRESSED: _("Suppressed by design"),
    AlarmState.OUT_OF_SERVICE: _("Out of service"),
}
QUALITIES = {
    Quality.GOOD: pgettext_lazy("value quality", "GOOD"),
    Quality.UNCERTAIN: pgettext_lazy("value quality", "UNCERTAIN"),
    Quality.BAD: pgettext_lazy("value quality", "BAD"),
}
BANDS = {
    PriorityBand.HIGHEST: pgettext_lazy("priority band", "HIGHEST"),
    PriorityBand.HIGH: pgettext_lazy("priority band", "HIGH"),
    PriorityBand.MEDIUM: pgettext_lazy("priority band", "MEDIUM"),
    PriorityBand.LOW: pgettext_lazy("priority band", "LOW"),
    PriorityBand.NONE: pgettext_lazy("priority band", "INFO"),
}
# Freshness.status (dashboard/panels/state.py); anything else reads STALE.
STATUSES = {
    "current": pgettext_lazy("site freshness", "CURRENT"),
    "failing": pgettext_lazy("site freshness", "FAILING"),
    "never": pgettext_lazy("site freshness", "NOT POLLED YET"),
    "unknown": pgettext_lazy("site freshness", "UNKNOWN"),
    "stale": pgettext_lazy("site freshness", "STALE"),
}


def _word(words: dict, value: object, default: object = "") -> str:
    try:
        return str(words.get(value, default))  # type: ignore[call-overload]
    except TypeError:  # an unhashable value is no key of ours
        return str(default)


@register.filter
def state_word(state: object) -> str:
    return _word(STATES, state, state)


@register.filter
def quality_word(quality: object) -> str:
    return _word(QUALITIES, quality, str(quality).upper())


@register.filter
def band_word(band: object) -> str:
    return _word(BANDS, band, str(band).upper())


@register.filter
def status_word(status: object) -> str:
    return _word(STATUSES, status, STATUSES["stale"])
