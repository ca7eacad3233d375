"""Who may do what on which site: the one place that answers it.

A person may act on a site when one of their groups holds the Django permission AND
is granted that site (or every site, "*") through SiteAccess. Superusers may do all.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import SESSION_KEY as USER_SESSION_KEY

from dashboard.models import SiteAccess

VIEW = "dashboard.view_dashboard"
ACKNOWLEDGE = "dashboard.acknowledge_alarm"
VIEW_AUDIT = "dashboard.view_audit"
SHELVE = "dashboard.shelve_alarm"
WRITE_TAG = "dashboard.write_tag"
CONFIGURE_TAGS = "dashboard.configure_tags"


def granted_sites(user, perm: str) -> set[str]:
    """Site ids granted with `perm` through the user's groups; may contain "*".

    A permission reaches only the sites of the group that carries it: a viewer of every
    site who operates one line acknowledges on that line alone.
    """
    if not user.is_authenticated:
        return set()
    cache = user.__dict__.setdefault("_wdash_granted_sites", {})
    if perm not in cache:
        app_label, codename = perm.split(".", 1)
        cache[perm] = set(
            SiteAccess.objects.filter(
                group__user=user,
                group__permissions__codename=codename,
                group__permissions__content_type__app_label=app_label,
            ).values_list("site_id", flat=True)
        )
    return cache[perm]


def _allowed(user, perm: str, site_id: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    sites = granted_sites(user, perm)
    return SiteAccess.ALL_SITES in sites or site_id in sites


def can_view(user, site_id: str) -> bool:
    return _allowed(user, VIEW, site_id)


def can_acknowledge(user, site_id: str) -> bool:
    return _allowed(user, ACKNOWLEDGE, site_id)


def can_shelve(user, site_id: str) -> bool:
    return _allowed(user, SHELVE, site_id)


def can_comment(user, site_id: str) -> bool:
    """Comments are part of operating: whoever may acknowledge on the site may comment."""
    return _allowed(user, ACKNOWLEDGE, site_id)


def can_write_tag(user, site_id: str) -> bool:
    """Whether the person may write the site's writable tags (setpoints, switches). The
    view also asks `signed_in_person`: only a person writes, never a screen or a token."""
    return _allowed(user, WRITE_TAG, site_id)


def signed_in_person(request) -> bool:
    """A person signed in through the sign-in page in this browser session: not a wall
    screen (its session carries the screen), not a request with an Authorization header
    (an API token), not an anonymous one."""
    from dashboard.views.wall import SESSION_KEY as WALL_SESSION_KEY

    user = request.user
    return bool(
        user.is_authenticated
        and "HTTP_AUTHORIZATION" not in request.META
        and request.session.get(USER_SESSION_KEY) == str(user.pk)
        and request.session.get(WALL_SESSION_KEY) is None
    )


def can_write_any(user) -> bool:
    """Whether the user may write on at least one site (the cheap first gate)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(granted_sites(user, WRITE_TAG))


def can_acknowledge_any(user) -> bool:
    """Whether the user may acknowledge on at least one site (the cheap first gate)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(granted_sites(user, ACKNOWLEDGE))


def can_view_audit(user) -> bool:
    return user.is_authenticated and user.is_active and (
        user.is_superuser or user.has_perm(VIEW_AUDIT)
    )


def can_configure_tags(user) -> bool:
    """The tag browser: staff (the admin's sign-in) with the permission; it changes what every
    site polls and every dashboard shows, so it is not scoped to sites."""
    return user.is_authenticated and user.is_active and user.is_staff and (
        user.is_superuser or user.has_perm(CONFIGURE_TAGS)
    )


def can_view_integrations(user) -> bool:
    """The integrations page: administrators, and auditors (who see what left the plant)."""
    return can_view_audit(user)


def can_retry_deliveries(user) -> bool:
    """Sending a dead letter again: administrators only."""
    return user.is_authenticated and user.is_active and user.is_superuser


def can_view_any(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_perm(VIEW))


def viewable_sites(user, site_ids: Iterable[str]) -> list[str]:
    return [s for s in site_ids if can_view(user, s)]


def acknowledgeable_sites(user, site_ids: Iterable[str]) -> list[str]:
    return [s for s in site_ids if can_acknowledge(user, s)]


def writable_sites(user, site_ids: Iterable[str]) -> list[str]:
    return [s for s in site_ids if can_write_tag(user, s)]
