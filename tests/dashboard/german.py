"""Checking a page in German: every string it asked the catalogue for was found there, and no
visible English was left beside the German (a string nobody marked for translation).

    with untranslated() as missing:
        de = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
    assert missing == set()
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert english_left(en.content, de.content) == []

`untranslated` records each message looked up in the German catalogue (gettext, ngettext,
pgettext, npgettext: templates, forms, views, lazy strings alike) without an entry there.
`english_left` compares the two renderings' visible text: a text that reads the same in both
and holds an English word is English left in the German page. Plant data (site names, tag
names and labels, alarm texts, user names) reads the same in both by right: its words come
from the test configuration and the test plant's alarms (livedata.SHOWN_DATA), and a test names any
more it shows.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.utils.translation import trans_real

from tests.dashboard.livedata import SHOWN_DATA

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}

_MISSING = object()


def _has(translation: trans_real.DjangoTranslation, key) -> bool:
    catalog = translation._catalog  # type: ignore[attr-defined]
    return catalog.get(key, _MISSING) is not _MISSING


@contextlib.contextmanager
def untranslated(language: str = "de") -> Iterator[set[str]]:
    """The messages asked of `language`'s catalogue that it does not hold ("context|message"
    for a pgettext)."""
    missing: set[str] = set()
    cls = trans_real.DjangoTranslation
    gettext, ngettext = cls.gettext, cls.ngettext

    def readable(message: str) -> str:
        return message.replace(trans_real.CONTEXT_SEPARATOR, "|")

    def recording_gettext(self, message):
        if (self.language() == language and message
                and not _has(self, message) and not _has(self, (message, 0))):
            missing.add(readable(message))
        return gettext(self, message)

    def recording_ngettext(self, msgid1, msgid2, n):
        if self.language() == language and not _has(self, (msgid1, 0)):
            missing.add(readable(msgid1))
        return ngettext(self, msgid1, msgid2, n)

    cls.gettext = recording_gettext  # type: ignore[method-assign]
    cls.ngettext = recording_ngettext  # type: ignore[method-assign]
    try:
        yield missing
    finally:
        cls.gettext = gettext  # type: ignore[method-assign]
        cls.ngettext = ngettext  # type: ignore[method-assign]


# Words that read the same in both languages: names of things, not sentences.
SAME_IN_BOTH = frozenset("""
WinCC Unified Classic REST GraphQL OPC UTC API CSV JSON SSE MQTT LDAP OIDC HTTP HTTPS URL
Redis Celery PostgreSQL SQLite Django ISA EEMUA IEC ERP MES OK ON OFF Prometheus Chromium
Webhook Token Dashboard Login Status Name Start Stop Export Filter Alarm Alarme Tag Tags
Server Details Info Version Admin Trend Trends Minute Minuten Audit Journal Shelving
English Deutsch Live Normal Axes webhook POST Text Excel INFO LIVE
""".split())  # noqa: SIM905  (a word list reads best as words)


def data_words(config_path: str | None = None) -> set[str]:
    """Every word in the configuration's texts (site names, labels, units, titles, alarm
    filters): plant data, shown as the plant wrote it."""
    path = Path(config_path or settings.WINCC_CONFIG)
    words: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            words.update(_WORD.findall(node))

    walk(json.loads(path.read_text(encoding="utf-8")))
    return words


_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{3,}")
# A list of keys (the stream's event names, CSS classes): no text.
_KEYS = re.compile(r"[a-z0-9_:.-]+(?: +[a-z0-9_:.-]+)*")
_SKIP = {"script", "style", "code", "pre", "kbd", "samp", "template", "svg"}
_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self._skipping += 1
        for name, value in attrs:
            if name in _ATTRIBUTES and value:
                self.texts.append(value.strip())
            # The words the scripts write come in data-* attributes: a phrase there is text
            # (an address, JSON or a single key is not).
            elif (name.startswith("data-") and value and " " in value.strip()
                  and not value.lstrip().startswith(("/", "{", "[", "http"))
                  and not _KEYS.fullmatch(value.strip())):
                self.texts.append(" ".join(value.split()))
            if tag == "input" and name == "value" and dict(attrs).get("type") in (
                    "submit", "button", "reset") and value:
                self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in _SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skipping:
            self.texts.append(text)


def visible_texts(html: str | bytes) -> list[str]:
    parser = _Texts()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser.texts


def english_left(english: str | bytes, german: str | bytes,
                 allowed: Iterable[str] = ()) -> list[str]:
    """Texts of the German page that read the same in the English one and hold a word that
    is neither plant data nor in `allowed` nor a name that reads the same in both."""
    same = SAME_IN_BOTH | data_words() | SHOWN_DATA | set(allowed)
    in_english = set(visible_texts(english))
    left = []
    for text in visible_texts(german):
        if text not in in_english:
            continue
        words = [w for w in _WORD.findall(text) if w not in same]
        if words:
            left.append(text)
    return left

