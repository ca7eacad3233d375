"""The alarm journal's exports: /journal.csv and /journal.xlsx, the rows the page's filter
matches (the same form, so the same sites), never the whole set in memory.

CSV is streamed as it is read, a keyset page at a time. Excel (openpyxl in write_only mode,
which writes each row out as it comes) is built in a temporary file from a chunked
iterator and then streamed from that file. Times are UTC and the headers say so; the CSV
writes each with its offset, Excel as UTC date-times.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import IO, Any

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from dashboard import exports, journal_query
from dashboard.journal_query import TRANSITIONS, JournalFilter, Line
from dashboard.models import AlarmComment, AlarmOccurrence, JournalEntry
from dashboard.views.journal import journal_filter

CHUNK = 1000
FILE_CHUNK = 64 * 1024

# The header rows in the request's language; the cells stay as recorded and machine-readable
# (ISO times with their offset in the CSV, real date-times and numbers in Excel, the recorded
# words of sites, alarms, bands and transitions), docs/languages.md.
OCCURRENCE_HEADER = [
    gettext_lazy("Raised (UTC+00:00)"), gettext_lazy("Site"), gettext_lazy("Alarm"),
    gettext_lazy("Instance"), gettext_lazy("Priority"), gettext_lazy("Priority band"),
    gettext_lazy("Alarm class"), gettext_lazy("Area"), gettext_lazy("Alarm text"),
    gettext_lazy("Acknowledged (UTC+00:00)"), gettext_lazy("Acknowledged by"),
    gettext_lazy("Acknowledged via"), gettext_lazy("Acknowledged after (s)"),
    gettext_lazy("Returned (UTC+00:00)"), gettext_lazy("Cleared (UTC+00:00)"),
    gettext_lazy("Duration (s)"), gettext_lazy("Transitions"), gettext_lazy("Comments"),
    gettext_lazy("Comment texts (oldest first)"),
]
TRANSITION_HEADER = [
    gettext_lazy("Time (UTC+00:00)"), gettext_lazy("Transition"), gettext_lazy("Site"),
    gettext_lazy("Alarm"), gettext_lazy("Instance"), gettext_lazy("Priority"),
    gettext_lazy("Alarm class"), gettext_lazy("Area"), gettext_lazy("Alarm text"),
    gettext_lazy("State"), gettext_lazy("Acknowledged in WinCC by"),
    gettext_lazy("Done here by"), gettext_lazy("Comment"),
]
SHEET = pgettext_lazy("workbook sheet", "Alarm journal")


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return None if start is None or end is None else int((end - start).total_seconds())


def _comments(occurrences: list[AlarmOccurrence]) -> dict[tuple[str, str, int], list[str]]:
    """Every comment of the chunk's occurrences that have any, one query."""
    wanted = [o for o in occurrences if o.comment_count]
    found: dict[tuple[str, str, int], list[str]] = {}
    if not wanted:
        return found
    keys = {(o.site_id, o.alarm_name, o.instance_id) for o in wanted}
    rows = AlarmComment.objects.filter(
        site_id__in={k[0] for k in keys}, alarm_name__in={k[1] for k in keys},
        instance_id__in={k[2] for k in keys}).order_by("created_at", "id")
    for c in rows:
        key = (c.site_id, c.alarm_name, c.instance_id)
        if key in keys:
            at = c.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            found.setdefault(key, []).append(f"{at} {c.username}: {c.text}")
    return found


def occurrence_records(chunk: list[AlarmOccurrence]) -> Iterator[list[Any]]:
    comments = _comments(chunk)
    page = reverse("alarm-occurrence")
    for occ in chunk:
        line = Line.of(occ, page)
        yield [
            occ.started_at, occ.site_id, occ.alarm_name, occ.instance_id, occ.priority,
            line.band, occ.alarm_class, occ.area, occ.event_text, occ.acknowledged_at,
            occ.acknowledged_by, occ.acknowledged_via if occ.acknowledged_at else "",
            _seconds(occ.raised_at, occ.acknowledged_at), occ.returned_at, occ.cleared_at,
            _seconds(occ.raised_at, line.ended_at), occ.transitions.strip(),
            occ.comment_count,
            " | ".join(comments.get((occ.site_id, occ.alarm_name, occ.instance_id), [])),
        ]


def transition_records(chunk: list[JournalEntry]) -> Iterator[list[Any]]:
    for e in chunk:
        yield [e.at, e.get_transition_display(), e.site_id, e.alarm_name, e.instance_id,
               e.priority, e.alarm_class, e.area, e.event_text, e.state, e.acknowledged_by,
               e.actor, e.comment]


def _shape(form: JournalFilter):
    """The header row, worded now (the stream runs after the request), and the records."""
    if form.mode == TRANSITIONS:
        return [str(h) for h in TRANSITION_HEADER], transition_records
    return [str(h) for h in OCCURRENCE_HEADER], occurrence_records


def _bad(form: JournalFilter) -> HttpResponse:
    return HttpResponse(gettext("Bad filter: %(problem)s") % {"problem": form.problem()},
                        status=400, content_type="text/plain")


def _filename(form: JournalFilter, suffix: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"alarm-journal-{form.mode}-{stamp}.{suffix}"


def _csv_cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return exports.safe_text("" if value is None else str(value))


@login_required
def journal_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = journal_filter(request)
    if not form.is_valid():
        return _bad(form)
    header, records = _shape(form)
    rows, field = form.rows()
    writer = csv.writer(exports.Echo())

    def chunk(after: str) -> tuple[list[list[Any]], str]:
        found = journal_query.page(rows, field, after=after, size=CHUNK)
        return list(records(found.rows)), found.next_cursor

    async def lines() -> AsyncIterator[str]:
        # Async, so the ASGI server sends while it reads; each chunk is a keyset page.
        yield writer.writerow(header)
        after = ""
        while True:
            done, after = await sync_to_async(chunk)(after)
            for record in done:
                yield writer.writerow([_csv_cell(v) for v in record])
            if not after:
                break

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(form, "csv")}"'
    return response


def _chunks(rows: Iterable[Any]) -> Iterator[list[Any]]:
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _xlsx_cell(sheet, value: Any):
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value.astimezone(UTC).replace(tzinfo=None))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, str):
        return exports.safe_text(value)
    return value


def write_xlsx(form: JournalFilter, target: IO[bytes]) -> int:
    """Write the filtered rows as a workbook to `target`; how many rows."""
    header, records = _shape(form)
    rows, field = form.rows()
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(SHEET))
    sheet.append(header)
    count = 0
    for chunk in _chunks(rows.order_by(f"-{field}", "-id").iterator(chunk_size=CHUNK)):
        for record in records(chunk):
            sheet.append([_xlsx_cell(sheet, v) for v in record])
            count += 1
    book.save(target)
    return count


async def _file_parts(handle: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while part := await sync_to_async(handle.read)(FILE_CHUNK):
            yield part
    finally:
        handle.close()


@login_required
def journal_xlsx(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = journal_filter(request)
    if not form.is_valid():
        return _bad(form)
    # Unlinked at once: the file goes away when it is closed, also on a dropped download.
    handle = tempfile.TemporaryFile(prefix="journal-", suffix=".xlsx")  # noqa: SIM115
    try:
        write_xlsx(form, handle)
        size = handle.tell()
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    response = StreamingHttpResponse(
        _file_parts(handle),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = f'attachment; filename="{_filename(form, "xlsx")}"'
    return response
