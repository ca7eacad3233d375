"""The admin: read-only audit log and alarm journal (superusers included), site access per
group, and wall screens and API tokens whose token is shown once."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from dashboard import apitokens, permissions, wallscreens
from dashboard.models import (
    AlarmComment,
    ApiToken,
    AuditEntry,
    Delivery,
    JournalEntry,
    Shelving,
    SiteAccess,
    WallScreen,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Append-only records: viewable, never added, changed or deleted through the product."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "username", "action", "site_id", "alarm_name", "instance_id",
                    "state_before", "state_after", "tag_name", "value_requested", "value_after",
                    "result", "remote_addr", "repeat_count")
    list_filter = ("action", "result", "site_id", "created_at")
    search_fields = ("username", "alarm_name", "tag_name", "site_id", "message", "comment")
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None):
        return permissions.can_view_audit(request.user)


@admin.register(JournalEntry)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "site_id", "alarm_name", "instance_id", "transition", "state",
                    "priority", "acknowledged_by", "actor", "comment")
    list_filter = ("transition", "site_id", "at")
    search_fields = ("alarm_name", "event_text", "site_id", "comment")
    date_hierarchy = "at"


@admin.register(Shelving)
class ShelvingAdmin(ReadOnlyAdmin):
    list_display = ("since", "until", "site_id", "alarm_name", "instance_id", "username",
                    "reason", "in_wincc", "ended_at", "end", "ended_by")
    list_filter = ("site_id", "end", "in_wincc")
    search_fields = ("alarm_name", "reason", "username")


@admin.register(AlarmComment)
class AlarmCommentAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "site_id", "alarm_name", "instance_id", "username", "kind",
                    "text")
    list_filter = ("site_id", "kind")
    search_fields = ("alarm_name", "text", "username")


@admin.register(SiteAccess)
class SiteAccessAdmin(admin.ModelAdmin):
    list_display = ("group", "site_id")
    list_filter = ("site_id",)


class SiteAccessInline(admin.TabularInline):
    """A group's permissions reach only the sites listed here ("*" for every site)."""

    model = SiteAccess
    extra = 1


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(auth_admin.GroupAdmin):
    inlines = [SiteAccessInline]


class WallScreenForm(forms.ModelForm):
    class Meta:
        model = WallScreen
        fields = ["name", "dashboard_id", "rotation", "page_seconds", "theme",
                  "language", "pause_on_alarm", "sound", "sound_priority"]
        # The form's labels, not the fields' verbose names: those would need a migration.
        labels = {"name": _("Name"), "dashboard_id": _("Dashboard"), "rotation": _("Rotation"),
                  "page_seconds": _("Seconds per page"), "theme": _("Theme"),
                  "language": _("Language"),
                  "pause_on_alarm": _("Pause on alarm"), "sound": _("Sound"),
                  "sound_priority": _("Sound from priority")}

    def clean_dashboard_id(self):
        try:
            return wallscreens.check_dashboards([self.cleaned_data["dashboard_id"]])[0]
        except wallscreens.UnknownDashboard as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_rotation(self):
        try:
            return wallscreens.check_rotation(self.cleaned_data["rotation"])
        except wallscreens.UnknownDashboard as exc:
            raise forms.ValidationError(str(exc)) from None


class IssuedTokenAdmin(admin.ModelAdmin):
    """A record whose token is made when it is added and shown once, on the page after
    saving (response_add reads request.issued_token); only its hash is stored."""

    @admin.display(description=_("Status"))
    def status(self, obj) -> str:
        return gettext("revoked") if obj.revoked_at else gettext("active")

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            request.issued_token = obj.new_token()
        super().save_model(request, obj, form, change)


@admin.register(WallScreen)
class WallScreenAdmin(IssuedTokenAdmin):
    form = WallScreenForm
    list_display = ("name", "dashboard_id", "rotation", "page_seconds", "theme",
                    "pause_on_alarm", "status", "last_seen_at")
    list_filter = ("dashboard_id",)
    readonly_fields = ("created_at", "created_by", "revoked_at", "last_seen_at")
    actions = ["revoke", "issue_new_token"]

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_token(request, obj, request.issued_token)

    def _show_token(self, request, screen: WallScreen, token: str) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Token for %(screen)s") % {"screen": screen.name},
            "screen": screen,
            "token": token,
            "sign_in_url": request.build_absolute_uri(screen.sign_in_path(token)),
        }
        return TemplateResponse(request, "admin/dashboard/wallscreen/token.html", context)

    @admin.action(description=_("Revoke the selected screens' tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, gettext(
            "Revoked %(count)d wall screen(s); they show the sign-in page.") % {"count": count})

    @admin.action(description=_("Issue a new token (one screen; the old one is revoked)"))
    def issue_new_token(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, gettext("Select exactly one screen."), level=messages.ERROR)
            return None
        old = queryset.get()
        # A new screen record, not a new hash on the old one: screens signed in with the old
        # token hold the old record in their session, and revoking it signs them out.
        if old.revoked_at is None:
            old.revoked_at = timezone.now()
            old.save(update_fields=["revoked_at"])
        screen, token = WallScreen.issue(
            name=old.name, dashboard_id=old.dashboard_id, created_by=request.user,
            **old.settings(),
        )
        return self._show_token(request, screen, token)


# --- integrations: deliveries (docs/integrations.md) -----------------------------------------


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    """Deliveries are written by the delivery task; an administrator may send dead letters
    again (the action below), nothing else."""

    list_display = ("created_at", "trigger_id", "event_name", "subject", "kind", "target",
                    "status", "attempts", "last_error")
    list_filter = ("status", "trigger_id", "kind")
    search_fields = ("trigger_id", "subject", "event_id")
    actions = ["send_again"]

    @admin.action(description=_("Send the selected dead letters again"),
                  permissions=["retry"])
    def send_again(self, request, queryset):
        from dashboard.deliveries import NotQueued, retry

        sent, problems = 0, []
        for record in queryset:
            try:
                retry(record)
                sent += 1
            except NotQueued as exc:
                problems.append(f"#{record.pk}: {exc}")
        if sent:
            messages.success(request, gettext("%(count)d queued again") % {"count": sent})
        for problem in problems:
            messages.warning(request, problem)

    def has_retry_permission(self, request):
        return permissions.can_retry_deliveries(request.user)


# --- the read-only API's tokens (docs/api.md) -------------------------------------------------


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "owner", "sites"]
        labels = {"name": _("Name"), "owner": _("Owner"), "sites": _("Sites")}

    def clean_sites(self):
        try:
            return apitokens.check_sites(self.cleaned_data["sites"])
        except apitokens.UnknownSite as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(ApiToken)
class ApiTokenAdmin(IssuedTokenAdmin):
    form = ApiTokenForm
    list_display = ("name", "shown_prefix", "owner", "sites", "status", "created_at",
                    "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "owner__username")
    readonly_fields = ("shown_prefix", "created_at", "created_by", "revoked_at", "last_used_at")
    actions = ["revoke"]

    @admin.display(description=_("Token"))
    def shown_prefix(self, token: ApiToken) -> str:
        return f"{ApiToken.SCHEME}_{token.prefix}_…" if token.prefix else ""

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("API token %(name)s") % {"name": obj.name},
            "api_token": obj,
            "token": request.issued_token,
        }
        return TemplateResponse(request, "admin/dashboard/apitoken/token.html", context)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, gettext(
            "Revoked %(count)d API token(s); they are refused from now on.") % {"count": count})
