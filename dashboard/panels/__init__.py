"""Panels: what the pages show, from what Redis holds to HTML fragments.

- state.py: a site as last read (values, alarms, health, trends) and the freshness rules.
- fragments.py: the Fragment, one swappable part of a page, and what it reacts to.
- alarm_list.py: which alarms the main list shows, in which order, and the counts.
- drawing.py: the inline SVG (limit band, sparkline).
- renderers.py: one renderer per fragment kind, and the pulse the browser ticks ages from.
The pages render fragments inline; the live hub (dashboard.live) renders each one once per
change and shares the bytes.
"""
