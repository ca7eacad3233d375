"""Which fragments make up each page, for one viewer. Pages, streams and polls share it.

A viewer's rights are read from the database once (when a page loads or a stream opens)
and carried as plain sets, so the stream loop never queries the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from django.utils.translation import gettext as _

from dashboard import params, permissions, trend_query
from dashboard.panels.alarm_list import BANDS
from dashboard.panels.fragments import Fragment
from wincc_bridge.models import AlarmState, PriorityBand, alarm_key
from wincc_ingest.config import Config

KEY_VALUES_PER_SITE = 4


@dataclass(frozen=True)
class Viewer:
    visible: tuple[str, ...]  # site ids, in configuration order
    ack: frozenset[str] = frozenset()
    write: frozenset[str] = frozenset()  # sites whose writable tags the viewer may write
    wall: bool = False

    @classmethod
    def for_user(cls, user, config: Config) -> Viewer:
        ids = [site.id for site in config.sites]
        return cls(
            visible=tuple(permissions.viewable_sites(user, ids)),
            ack=frozenset(permissions.acknowledgeable_sites(user, ids)),
            write=frozenset(permissions.writable_sites(user, ids)),
        )

    @classmethod
    def for_wall(cls, config: Config) -> Viewer:
        # A wall screen's token is view-only for the whole plant; it never acknowledges
        # nor writes.
        return cls(visible=tuple(site.id for site in config.sites), wall=True)


@dataclass
class Section:
    title: str
    kind: str
    fragments: list[Fragment]


@dataclass
class Layout:
    title: str
    sites: tuple[str, ...]  # the sites this page is about (its freshness line)
    sections: list[Section] = field(default_factory=list)
    header: list[Fragment] = field(default_factory=list)

    @property
    def fragments(self) -> list[Fragment]:
        return self.header + [f for s in self.sections for f in s.fragments]

    def speaking(self, language: str) -> Layout:
        """The same page with every fragment rendered in `language` (a variant of each)."""
        return Layout(
            self.title, self.sites,
            [Section(s.title, s.kind, [replace(f, language=language) for f in s.fragments])
             for s in self.sections],
            [replace(f, language=language) for f in self.header],
        )


def _header(viewer: Viewer, page_sites: tuple[str, ...]) -> list[Fragment]:
    return [
        Fragment("counts", viewer.visible),
        Fragment("status", page_sites),
        # The annunciator: every page, every site the viewer sees (templates/base.html).
        Fragment("banner", viewer.visible),
    ]


def _tile(config: Config, viewer: Viewer, site_id: str, tag_name: str) -> Fragment:
    tag = config.known_site(site_id).tag(tag_name)
    write = not viewer.wall and site_id in viewer.write and tag is not None and tag.writable
    return Fragment("tile", (site_id,), (tag_name,), write=write)


def _alarms(viewer: Viewer, sites, filters=()) -> Fragment:
    ack = frozenset() if viewer.wall else viewer.ack & set(sites)
    return Fragment("alarms", tuple(sites), filters=tuple(filters), ack_sites=ack)


def key_tags(config: Config, site_id: str) -> list[str]:
    """A site's key values: its first tiles panel on any dashboard, else its first tags."""
    for board in config.dashboards:
        for panel in board.panels:
            if panel.kind == "tiles" and panel.site == site_id and panel.tags:
                return list(panel.tags[:KEY_VALUES_PER_SITE])
    return [t.name for t in config.known_site(site_id).tags[:KEY_VALUES_PER_SITE]]


def overview(config: Config, viewer: Viewer) -> Layout:
    layout = Layout(_("Overview"), viewer.visible, header=_header(viewer, viewer.visible))
    for site_id in viewer.visible:
        site = config.known_site(site_id)
        tiles = [_tile(config, viewer, site_id, tag) for tag in key_tags(config, site_id)]
        layout.sections.append(
            Section(site.name, "site", [Fragment("summary", (site_id,)), *tiles])
        )
    return layout


def dashboard(config: Config, viewer: Viewer, dashboard_id: str) -> Layout | None:
    board = config.dashboard(dashboard_id)
    if board is None:
        return None
    seen: list[str] = []
    sections = []
    for panel in board.panels:
        if panel.kind in {"tiles", "trend"}:
            if panel.site not in viewer.visible:
                continue
            seen.append(panel.site)
            if panel.kind == "tiles":
                frags = [_tile(config, viewer, panel.site, tag) for tag in panel.tags]
            else:
                frags = [Fragment("trend", (panel.site,), panel.tags, minutes=panel.minutes)]
        else:
            wanted = panel.sites or ((panel.site,) if panel.site else viewer.visible)
            sites = tuple(s for s in wanted if s in viewer.visible)
            if not sites:
                continue
            seen.extend(sites)
            if panel.kind == "alarms":
                frags = [_alarms(viewer, sites)]
            else:
                frags = [Fragment("health", sites, title=panel.title)]
        sections.append(Section(panel.title, panel.kind, frags))
    page_sites = tuple(s for s in viewer.visible if s in seen)
    return Layout(board.title, page_sites, sections, _header(viewer, page_sites))


def wall(config: Config, viewer: Viewer, dashboard_id: str) -> Layout | None:
    """A dashboard on a wall screen: its strip names the plant's most pressing alarm."""
    layout = dashboard(config, viewer, dashboard_id)
    if layout is not None:
        layout.header.append(Fragment("strip", viewer.visible))
    return layout


FILTER_CHOICES = {
    "priority": [band.value for band in [*BANDS, PriorityBand.NONE]],
    "state": [state.value for state in AlarmState],
    # The grouped view offered in an alarm flood.
    "group": ["class"],
}


def alarm_filters(config: Config, viewer: Viewer, query) -> dict[str, str]:
    """The alarm list's filters from the query string; params.BadParameter names a wrong one."""
    filters = {}
    for key in ("site", "priority", "state", "group"):
        allowed = viewer.visible if key == "site" else FILTER_CHOICES[key]
        if value := params.choice(query, key, allowed):
            filters[key] = value
    return filters


def alarms(config: Config, viewer: Viewer, filters: dict[str, str]) -> Layout:
    sites = (filters["site"],) if "site" in filters else viewer.visible
    rest = tuple((k, v) for k, v in sorted(filters.items()) if k != "site")
    frag = _alarms(viewer, sites, rest)
    return Layout(_("Alarms"), sites, [Section("", "alarms", [frag])], _header(viewer, sites))


def sites(config: Config, viewer: Viewer) -> Layout:
    frag = Fragment("health", viewer.visible, title="Site health")
    sections = [Section("", "site_health", [frag])]
    return Layout(_("Sites"), viewer.visible, sections, _header(viewer, viewer.visible))


def occurrence(viewer: Viewer, query) -> Layout:
    """One alarm occurrence's page: its live state (the `occurrence` fragment) under the
    usual header. params.BadParameter names a site the viewer does not see."""
    site = params.choice(query, "site", viewer.visible)
    if not site:
        raise params.BadParameter(_("Name the alarm's site (site=...)."))
    name = query.get("name", "").strip()
    instance = params.whole_number(query, "instance", default=0) or 0
    frag = Fragment("occurrence", (site,), (alarm_key(name, instance),))
    return Layout(name, (site,), [Section("", "occurrence", [frag])], _header(viewer, (site,)))


def banner(viewer: Viewer) -> Layout:
    """A page without fragments of its own (audit log, integrations, an alarm occurrence, an
    error page) still shows the annunciation banner, kept live over its own stream."""
    return Layout("", viewer.visible, header=[Fragment("banner", viewer.visible)])


def trend(config: Config, viewer: Viewer, query) -> Layout:
    """The trend page: its pens' tiles, whose frames on the page's stream extend the chart's
    live edge."""
    pens = trend_query.live_pens(config, viewer.visible, query.getlist("pen"))
    sites = tuple(dict.fromkeys(p.site.id for p in pens))
    tiles = [_tile(config, viewer, p.site.id, p.tag.name) for p in pens]
    sections = [Section(_("Now"), "tiles", tiles)] if tiles else []
    return Layout(_("Trend"), sites, sections, _header(viewer, sites))


# The pages that have a layout (and so a stream and a poll).
PAGES = frozenset({"overview", "alarms", "sites", "dashboard", "wall", "banner", "occurrence",
                   "trend"})


def for_page(page: str, arg: str, config: Config, viewer: Viewer, query) -> Layout | None:
    """The layout of a page by name; None when the dashboard does not exist."""
    if page == "overview":
        return overview(config, viewer)
    if page == "wall":
        return wall(config, viewer, arg)
    if page == "dashboard":
        return dashboard(config, viewer, arg)
    if page == "alarms":
        return alarms(config, viewer, alarm_filters(config, viewer, query))
    if page == "sites":
        return sites(config, viewer)
    if page == "banner":
        return banner(viewer)
    if page == "occurrence":
        return occurrence(viewer, query)
    if page == "trend":
        return trend(config, viewer, query)
    raise ValueError(f"unknown page {page!r}")
