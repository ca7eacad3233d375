"""API tokens from the shell: create (prints the token once), list, revoke."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard import apitokens
from dashboard.models import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke tokens of the read-only API (/api/v1/, docs/api.md)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("name", help="what uses it, e.g. 'MES line 2'")
        create.add_argument("--owner", required=True,
                            help="user name: the token reads at most what this person may view")
        create.add_argument("--sites", default="*",
                            help="site ids it may read, separated by commas, or '*' (default)")
        revoke = sub.add_parser("revoke", help="Revoke a token, by its prefix or id.")
        revoke.add_argument("token", help="the prefix (wdash_<prefix>_…) or the id from list")
        sub.add_parser("list", help="List the tokens: prefix, name, owner, sites, last use.")

    def handle(self, *args, **options):
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options):
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"No user {options['owner']!r}; the owner must exist.")
        try:
            sites = apitokens.check_sites(options["sites"])
            token, text = ApiToken.issue(name=options["name"], owner=owner, sites=sites)
        except (apitokens.UnknownSite, ValidationError) as exc:
            raise CommandError(_sentence(exc)) from None
        self.stdout.write(f"Created API token {token.name!r} (id {token.pk}) for "
                          f"{owner.get_username()}, sites {token.sites}.")
        self.stdout.write("Token (shown only now; only its hash is kept):")
        self.stdout.write(text)

    def _revoke(self, options):
        token = _find(options["token"])
        if not token.revoke(timezone.now()):
            self.stdout.write(f"API token {token.name!r} was already revoked.")
            return
        self.stdout.write(f"Revoked API token {token.name!r} (id {token.pk}).")

    def _list(self, options):
        tokens = ApiToken.objects.select_related("owner").order_by("name", "pk")
        if not tokens:
            self.stdout.write("No API tokens.")
            return
        for token in tokens:
            status = "revoked" if token.revoked_at else "active"
            used = token.last_used_at.isoformat() if token.last_used_at else "never"
            self.stdout.write(
                f"{token.pk:>4}  wdash_{token.prefix}_…  {token.name:<24} "
                f"owner {token.owner.get_username():<16} sites {token.sites:<24} {status:<8} "
                f"last used {used}"
            )


def _find(ref: str) -> ApiToken:
    prefix = ref.removeprefix(f"{ApiToken.SCHEME}_").partition("_")[0]
    token = ApiToken.objects.filter(prefix=prefix).first()
    if token is None and ref.isascii() and ref.isdigit():
        token = ApiToken.objects.filter(pk=int(ref)).first()
    if token is None:
        raise CommandError(f"No API token with prefix or id {ref[:40]!r}.")
    return token


def _sentence(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(f"{field}: {' '.join(messages)}"
                        for field, messages in error.message_dict.items())
    return str(error)
