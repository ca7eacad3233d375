"""GET /api/v1/journal/?after=: the alarm journal from a cursor on, settled rows only."""

from __future__ import annotations

from tests.api.support import ApiTestCase, age_journal, journal_row


class JournalTestCase(ApiTestCase):
    def test_pages_through_the_journal_with_the_cursor(self):
        rows = [journal_row(n) for n in range(5)]
        age_journal()
        first = self.get("/journal/", limit="2").json()
        assert [e["alarm_name"] for e in first["entries"]] == ["Alarm_0", "Alarm_1"]
        assert (first["next_cursor"], first["more"]) == (rows[1].pk, True)
        rest = self.get("/journal/", after=str(first["next_cursor"]), limit="10").json()
        assert [e["id"] for e in rest["entries"]] == [r.pk for r in rows[2:]]
        assert (rest["next_cursor"], rest["more"]) == (rows[-1].pk, False)
        empty = self.get("/journal/", after=str(rest["next_cursor"])).json()
        assert (empty["entries"], empty["next_cursor"]) == ([], rows[-1].pk)

    def test_a_row_younger_than_two_seconds_waits(self):
        old = journal_row(1)
        age_journal()
        journal_row(2)  # just recorded: may still be one of a transaction being committed
        body = self.get("/journal/").json()
        assert [e["id"] for e in body["entries"]] == [old.pk]
        assert body["next_cursor"] == old.pk

    def test_one_site_only(self):
        journal_row(1, site="oven-unified")
        line = journal_row(2, site="line-classic")
        age_journal()
        body = self.get("/journal/", site="line-classic").json()
        assert [e["id"] for e in body["entries"]] == [line.pk]
        assert body["entries"][0]["site"] == "line-classic"

    def test_bad_cursor_and_limit_are_422_with_a_sentence(self):
        for query, name in (({"after": "x"}, "after"), ({"after": "-1"}, "after"),
                            ({"after": str(2**63)}, "after"), ({"limit": "0"}, "limit"),
                            ({"limit": "1001"}, "limit")):
            response = self.get("/journal/", **query)
            assert response.status_code == 422, query
            detail = response.json()["detail"]
            assert detail.startswith(f"The query parameter '{name}' does not fit"), detail
