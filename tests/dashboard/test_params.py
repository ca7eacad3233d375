"""dashboard.params: the strict parsers every view uses for request parameters."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from dashboard import params


def query(text: str) -> QueryDict:
    return QueryDict(text)


@pytest.mark.parametrize("value", ["²", "٣", "-1", "1.5", "1e3", " ", "0x10", "9" * 19, "4\x00"])
def test_whole_number_takes_ascii_digits_only(value):
    q = QueryDict(mutable=True)
    q["n"] = value
    if value.strip():
        with pytest.raises(params.BadParameter, match="n must be a whole number from 0 to"):
            params.whole_number(q, "n")
    else:
        assert params.whole_number(q, "n", default=7) == 7


def test_whole_number_bounds_and_default():
    assert params.whole_number(query("n=12"), "n", minimum=5, maximum=20) == 12
    assert params.whole_number(query(""), "n", default=3) == 3
    with pytest.raises(params.BadParameter, match="from 5 to 20, not '21'"):
        params.whole_number(query("n=21"), "n", minimum=5, maximum=20)


def test_choice_names_the_choices_and_cuts_a_long_value():
    assert params.choice(query("t=poll"), "t", ("sse", "poll")) == "poll"
    assert params.choice(query(""), "t", ("sse", "poll"), default="sse") == "sse"
    with pytest.raises(params.BadParameter) as caught:
        params.choice(query("t=" + "x" * 5000), "t", ("sse", "poll"))
    assert str(caught.value).endswith("Choose one of: sse, poll.")
    assert len(str(caught.value)) < 120


def test_text_refuses_its_length():
    assert params.text(query("s=%20ok%20"), "s", max_length=5) == "ok"
    with pytest.raises(params.BadParameter, match="at most 5 characters"):
        params.text(query("s=abcdef"), "s", max_length=5)


def test_clipped_keeps_what_it_can():
    assert params.clipped(query("s=a%00bcdef"), "s", 3) == "abc"
    assert params.clipped(query(""), "s", 3) == ""


def test_a_nul_anywhere_in_the_request_is_found():
    from django.test import RequestFactory

    factory = RequestFactory()
    assert params.nul_problem(factory.get("/sites/", {"q": "ok"})) is None
    assert params.nul_problem(factory.get("/sites/", {"q": "a\x00b"})) == (
        "q may not contain a NUL character.")
    assert params.nul_problem(factory.get("/sites/", {"a\x00b": "1"})) == (
        "ab may not contain a NUL character.")
    assert params.nul_problem(factory.post("/alarms/ack/", {"comment": ["ok", "\x00"]})) == (
        "comment may not contain a NUL character.")
    assert params.nul_problem(factory.get("/d/a\x00b/")) == (
        "The address may not contain a NUL character.")
