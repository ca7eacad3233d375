"""POST /alarms/comment/ and acknowledging with a comment: who may, bad input, where the
comment shows (alarm list, occurrence page, journal, audit export), append-only."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.test import override_settings

from dashboard import refusals
from dashboard.models import AlarmComment, AppendOnlyError, AuditEntry, JournalEntry
from tests.dashboard.acksupport import SimulatorSites, SitesConfigured
from tests.dashboard.base import BaseTestCase
from wincc_ingest import codec, store

Result = AuditEntry.Result


class CommentSupport:
    def comment_post(self, alarm, text="Valve V12 checked on site, no leak"):
        return self.client.post("/alarms/comment/", {
            "site": alarm.site, "name": alarm.name, "instance": str(alarm.instance_id),
            "text": text})


class CommentTestCase(CommentSupport, SitesConfigured, BaseTestCase):
    def test_operator_comments_and_everyone_sees_it(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.operator)
        response = self.comment_post(alarm)
        assert response.status_code == 303
        comment = AlarmComment.objects.get()
        assert (comment.username, comment.kind, comment.text) == (
            "operator", "comment", "Valve V12 checked on site, no leak")
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.result, entry.comment) == ("comment", Result.OK,
                                                               comment.text)
        step = JournalEntry.objects.get()
        assert (step.transition, step.actor, step.comment, step.priority) == (
            "commented", "operator", comment.text, 12)
        note = codec.decode_note(self.redis.hget(store.site_notes(alarm.site), alarm.key))
        assert (note.comment_count, note.comments[0].by) == (1, "operator")
        # A viewer reads it in the list and on the page, without a form to add one.
        self.client.force_login(self.viewer)
        html = self.client.get("/alarms/").content.decode()
        assert "Valve V12 checked on site, no leak" in html
        page = self.client.get(response["Location"]).content.decode()
        assert "Valve V12 checked on site, no leak" in page
        assert 'data-action="comment"' not in page

    def test_a_viewers_burst_of_comments_and_shelves_is_counted_not_flooded(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.viewer)
        budget = refusals.PERSON_REFUSALS_PER_MINUTE
        for n in range(budget + 10):
            assert self.comment_post(alarm, f"attempt {n}").status_code in (403, 429)
            self.client.post("/alarms/shelve/", {
                "site": alarm.site, "name": alarm.name, "instance": str(alarm.instance_id),
                "minutes": "15", "reason": "nuisance"})
        rows = AuditEntry.objects.filter(username="viewer")
        # At most the budget's rows plus one summary per kind of refusal; the counts are exact.
        assert rows.count() <= budget + 1
        assert sum(row.repeat_count for row in rows) == 2 * (budget + 10)
        assert {row.result for row in rows} == {Result.DENIED}
        assert not AlarmComment.objects.exists()

    def test_comments_append_and_the_row_shows_the_newest(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.operator)
        for n in range(5):
            self.comment_post(alarm, f"note number {n}")
        note = codec.decode_note(self.redis.hget(store.site_notes(alarm.site), alarm.key))
        assert note.comment_count == 5
        assert [c.text for c in note.comments] == ["note number 2", "note number 3",
                                                   "note number 4"]
        comment = AlarmComment.objects.first()
        comment.text = "rewritten"
        with self.assertRaises(AppendOnlyError):
            comment.save()
        with self.assertRaises(AppendOnlyError):
            AlarmComment.objects.all().delete()

    def test_viewer_gets_403_and_a_denied_row(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.viewer)
        response = self.comment_post(alarm)
        assert response.status_code == 403
        assert not AlarmComment.objects.exists()
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.result, entry.username) == ("comment", Result.DENIED,
                                                                "viewer")

    def test_line_operator_comments_only_on_their_line(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.line_operator)
        assert self.comment_post(alarm).status_code == 403
        line = self.seed_alarm(site="line-classic", name="Conveyor_Fault")
        assert self.comment_post(line).status_code == 303

    def test_empty_and_too_long_comments_are_refused(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.operator)
        response = self.comment_post(alarm, "   ")
        assert (response.status_code, response.content) == (400, b"Write a comment first.")
        response = self.comment_post(alarm, "x" * 1001)
        assert response.status_code == 400
        assert response.content == b"A comment may be at most 1000 characters long."
        assert self.comment_post(alarm, "x" * 1000).status_code == 303
        assert [e.result for e in AuditEntry.objects.order_by("id")] == [
            Result.ERROR, Result.ERROR, Result.OK]
        assert AlarmComment.objects.count() == 1

    def test_malformed_instance_is_refused(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.operator)
        response = self.client.post("/alarms/comment/", {
            "site": alarm.site, "name": alarm.name, "instance": "1x", "text": "hello"})
        assert response.status_code == 400
        assert b"instance" in response.content

    def test_a_comment_on_an_occurrence_that_left_the_list_is_kept(self):
        alarm = self.seed_alarm()
        self.redis.delete(store.site_alarms(alarm.site))
        self.client.force_login(self.operator)
        assert self.comment_post(alarm).status_code == 303
        assert JournalEntry.objects.get().event_text == ""

    def test_the_note_of_an_occurrence_that_left_is_dropped_by_beat(self):
        alarm = self.seed_alarm()
        kept = self.seed_alarm(name="Oven_Zone2_Temp_HH")
        self.client.force_login(self.operator)
        self.comment_post(alarm)
        self.comment_post(kept)
        self.redis.hdel(store.site_alarms(alarm.site), alarm.key)  # it left WinCC's list
        from dashboard.tasks import expire_shelving

        expire_shelving.apply()
        assert self.redis.hkeys(store.site_notes(alarm.site)) == [kept.key]
        assert AlarmComment.objects.count() == 2  # the record stays

    def test_the_audit_export_carries_the_comment(self):
        alarm = self.seed_alarm()
        self.client.force_login(self.operator)
        self.comment_post(alarm, "checked, see shift log")
        self.client.force_login(self.auditor)
        response = self.client.get("/audit.csv")

        async def body() -> bytes:
            return b"".join([chunk async for chunk in response.streaming_content])

        csv = async_to_sync(body)().decode()
        assert "checked, see shift log" in csv and "comment" in csv

    @override_settings(ALARM_COMMENT_REQUIRED_PRIORITIES=frozenset({2}))
    def test_a_required_comment_is_asked_for_and_nothing_is_sent(self):
        alarm = self.seed_alarm(priority=12)  # rank 2
        self.client.force_login(self.operator)
        response = self.ack_post(alarm)
        assert "A comment is required to acknowledge a priority 2 alarm" in (
            response.content.decode())
        entry = AuditEntry.objects.get()
        assert entry.result == Result.ERROR
        lock = store.alarm_ack_lock(alarm.site, alarm.name, alarm.instance_id)
        assert self.redis.get(lock) is None
        # The list offers no bare button for it: it is acknowledged from its page.
        html = self.client.get("/alarms/").content.decode()
        assert 'data-action="ack"' not in html
        page = self.client.get(
            f"/alarms/occurrence/?site={alarm.site}&name={alarm.name}&instance=1").content
        assert b"Comment (required)" in page


class AcknowledgeWithCommentTestCase(CommentSupport, SimulatorSites, BaseTestCase):
    def test_the_comment_goes_with_the_acknowledgement(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        self.client.force_login(self.operator)
        response = self.ack_post(alarm, comment="Burner tripped, reset by shift lead")
        assert response.status_code == 200
        assert 'data-state="acknowledged"' in response.content.decode()
        comment = AlarmComment.objects.get()
        assert (comment.kind, comment.text) == ("acknowledge",
                                                "Burner tripped, reset by shift lead")
        entry = AuditEntry.objects.get(action="acknowledge")
        assert (entry.result, entry.comment) == (Result.OK, comment.text)
        assert len(self.wincc_writes()) == 1

    def test_viewer_comment_and_acknowledge_send_nothing(self):
        alarm = self.raise_and_poll("oven-unified", "Oven_Zone1_Temp_HH")
        self.client.force_login(self.viewer)
        assert self.ack_post(alarm, comment="x").status_code == 403
        assert self.comment_post(alarm).status_code == 403
        assert self.wincc_writes() == []
        assert set(AuditEntry.objects.values_list("result", flat=True)) == {Result.DENIED}
