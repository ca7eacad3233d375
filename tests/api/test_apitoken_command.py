"""manage.py apitoken create / list / revoke."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from dashboard.models import ApiToken
from tests.api.support import ApiTestCase


def run(*args) -> str:
    out = StringIO()
    call_command("apitoken", *args, stdout=out)
    return out.getvalue()


class ApiTokenCommandTestCase(ApiTestCase):
    def test_create_prints_the_token_once_and_it_reads(self):
        out = run("create", "MES line 2", "--owner", "viewer", "--sites", "line-classic")
        text = out.strip().splitlines()[-1]
        assert text.startswith("wdash_")
        token = ApiToken.objects.get(name="MES line 2")
        assert (token.owner, token.sites, token.created_by) == (self.viewer, "line-classic", None)
        assert [s["id"] for s in self.get("/sites/", secret=text).json()] == ["line-classic"]
        listed = run("list")
        assert f"wdash_{token.prefix}_…" in listed and "MES line 2" in listed
        assert text not in listed
        assert text.split("_", 2)[2] not in listed

    def test_revoke_by_prefix_or_id(self):
        out = run("create", "Script", "--owner", "viewer")
        text = out.strip().splitlines()[-1]
        token = ApiToken.objects.get(name="Script")
        assert "Revoked API token 'Script'" in run("revoke", f"wdash_{token.prefix}")
        assert self.get("/sites/", secret=text).status_code == 401
        assert "already revoked" in run("revoke", str(token.pk))
        assert "revoked" in run("list")

    def test_mistakes_are_sentences(self):
        cases = [
            (("create", "X", "--owner", "nobody"), "No user 'nobody'; the owner must exist."),
            (("create", "X", "--owner", "viewer", "--sites", "nowhere"),
             "No site 'nowhere' in the configuration. It has: oven-unified, line-classic, "
             "utilities-restv1."),
            (("create", "X", "--owner", "viewer", "--sites", "*,line-classic"),
             '"*" already means every site: give it alone.'),
            (("create", "X" * 101, "--owner", "viewer"), "name: "),
            (("revoke", "deadbeef"), "No API token with prefix or id 'deadbeef'."),
        ]
        for args, sentence in cases:
            with pytest.raises(CommandError) as error:
                run(*args)
            assert str(error.value).startswith(sentence), str(error.value)
        assert ApiToken.objects.count() == 1  # the base case's own
