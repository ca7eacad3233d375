"""Browsing a site's WinCC server for its tags, with the site's read-only user: the form that
checks what is asked (the tag browser page and `manage.py wincc_config` share it), the
browse, and the current values of the tags shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.configurator import PickedTag, whole_number_type
from wincc_bridge.client import open_client
from wincc_bridge.models import BrowseItem, TagValue
from wincc_ingest.config import SiteConfig, TagConfig

# What the three dialects' browse calls take as a name filter: tag name characters and the
# wildcards * and ?. Quotes, backslashes and control characters would reach the server's
# query as they are.
PATTERN_CHARACTERS = r"^[\w.:*?/ \-\[\]#@$%+]+$"
# Tags per page. A page posts 11 fields per tag, which must stay under Django's
# DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) with room to spare.
PAGE_SIZES = (25, 50, 75)


class BrowseForm(forms.Form):
    """Which site, which tags (a name pattern), which page of them."""

    pattern = forms.RegexField(
        regex=PATTERN_CHARACTERS, max_length=128, initial="*",
        label=_("Pattern"),
        help_text=_("Tag names to list: * any characters, ? one character, e.g. Oven_*."),
        error_messages={
            "invalid": _("A pattern holds tag name characters and the wildcards * and ? only "
                         "(no quotes, backslashes or control characters)."),
            "required": _("Give a tag name pattern, e.g. Oven_* (or * for every tag)."),
        },
    )
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False, error_messages={
        "invalid": _("The page is a whole number from 1."),
        "min_value": _("The page is a whole number from 1.")})
    per_page = forms.TypedChoiceField(
        label=_("Per page"),
        choices=[(n, str(n)) for n in PAGE_SIZES], coerce=int, required=False,
        empty_value=None,
    )

    def __init__(self, *args, sites: Sequence[SiteConfig], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"] = forms.ChoiceField(
            label=_("Site"), choices=[(site.id, site.name) for site in sites],
            error_messages={"invalid_choice": _("No site %(value)s is configured.")},
        )
        self.order_fields(["site", "pattern", "page", "per_page"])


def browse(site: SiteConfig, pattern: str) -> list[BrowseItem]:
    """The site's tags whose names match `pattern`, by name; WinCCError when the server
    cannot say."""
    with open_client(site.connection()) as client:
        items = client.browse(pattern)
    return sorted({item.name: item for item in items}.values(), key=lambda item: item.name)


def read_values(site: SiteConfig, names: Sequence[str]) -> dict[str, TagValue]:
    """The current values of `names` (one read, the site's batch size per request)."""
    if not names:
        return {}
    with open_client(site.connection()) as client:
        return {value.name: value for value in client.read_tags(list(names))}


def configured_tag(site: SiteConfig, name: str) -> TagConfig | None:
    """The site's configured tag that a browsed `name` is: Unified lists its tags with their
    runtime's prefix ("HMI_RT_1::Tank_Level") and reads them by either name."""
    return site.tag(name) or site.tag(name.rpartition("::")[2])


def suggested(item: BrowseItem) -> PickedTag:
    """A browsed tag as configured when nobody says otherwise: its WinCC display name as
    label, and no decimals for whole numbers."""
    label = item.display_name if item.display_name != item.name else ""
    return PickedTag(item.name, label=label,
                     decimals=0 if whole_number_type(item.data_type) else None)
