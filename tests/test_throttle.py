"""pgscore.throttle: how often a backend repeats a broken wiring's WARNING (pure; the trigger's through SQL in
test_rescoring)."""

import datetime

import pytest

from pgscore import throttle


@pytest.mark.parametrize("value, seconds", [(None, 60), ("", 60), ("0", 0), ("90", 90), ("60s", 60), ("500ms", 0.5),
                                            ("5min", 300), ("1h", 3600), (" 2 S ", 2), ("1.5min", 90)])
def test_the_interval_is_a_duration(value, seconds):
    assert throttle.interval(value) == (seconds, None)


@pytest.mark.parametrize("value", ["soon", "-1", "1 day", "1e3", "5 minutes"])
def test_a_value_that_is_no_duration_is_the_default_said(value):
    every, note = throttle.interval(value)
    assert every == 60 and note == (f"pgscore.rescoring_warning_interval {value!r} is no duration (say '60s', "
                                    "'500ms', '5min' or '0'): 60 s used")


def test_said_once_then_once_an_interval_counting_what_was_held():
    state, wall = {}, datetime.datetime(2026, 12, 7, 14, 0, tzinfo=datetime.timezone.utc)
    first = throttle.say(state, "k", 3, 60, now=100.0, wall=wall)
    assert first.first and throttle.detail(first, 60).startswith("the first such WARNING of this session")
    assert [throttle.say(state, "k", 2, 60, now=100.0 + t) for t in (1, 30, 59.9)] == [None] * 3
    assert throttle.say(state, "other", 1, 60, now=101.0).first  # another key: said at once
    held = throttle.say(state, "k", 1, 60, now=160.0)
    assert (held.statements, held.profiles, held.first) == (3, 6, False)
    assert throttle.detail(held, 60) == (
        "3 more statement(s) of this session failed so since its last such WARNING (2026-12-07 14:00:00 UTC), not "
        "said, queuing 6 profile(s) unless rolled back (pgscore.error_queue holds those committed): said at most once every 60 s per session and wiring (pgscore.rescoring_warning_interval); "
        "the profiles are counted in pgscore.error_queue, pgscore health and pgscore.metrics()")
    assert throttle.say(state, "k", 1, 60, now=161.0) is None  # the interval starts again at the WARNING
    assert throttle.say(state, "k", 1, 0, now=161.0) is not None  # 0: every statement


def test_a_count_held_back_is_due_an_interval_after_its_warning_once():
    """Session 70 (h4): due() gives the wiring's counts held back an interval or more after their last WARNING,
    reset as said (the trigger says them at the wiring's next statement that does not fail so); another wiring's,
    an empty count's and one within its interval are not due."""
    state, wall = {}, datetime.datetime(2026, 12, 7, 14, 0, tzinfo=datetime.timezone.utc)
    throttle.say(state, (1, "s", ("55000",)), 1, 10, now=100.0, wall=wall)
    throttle.say(state, (1, "s", throttle.NULL_KEY), 2, 10, now=100.0, wall=wall)
    throttle.say(state, (2, "s", ("55000",)), 1, 10, now=100.0, wall=wall)
    for t in (101.0, 102.0):
        throttle.say(state, (1, "s", ("55000",)), 3, 10, now=t)
        throttle.say(state, (2, "s", ("55000",)), 3, 10, now=t)
    assert throttle.due(state, 1, now=109.9) == [] and throttle.due(None, 1) == []
    (key, held), = throttle.due(state, 1, now=110.0, wall=wall)  # (the NULL key's: none held back)
    assert key == (1, "s", ("55000",)) and (held.statements, held.profiles) == (2, 6)
    assert throttle.stopped(held, key, "public.customers", "public.complaints", "customer_id") == (
        "pgscore: 2 more statement(s) of this session could not rescore profiles of public.customers for "
        "public.complaints so (SQLSTATE 55000) since its last such WARNING (2026-12-07 14:00:00 UTC), not said, "
        "queuing 6 profile(s) unless rolled back (pgscore.error_queue holds those committed); this session's "
        "statements since do not fail so")
    assert throttle.due(state, 1, now=200.0) == []  # said once
    assert throttle.say(state, (1, "s", ("55000",)), 1, 10, now=111.0) is None  # its interval starts again
