"""The datetime family (coders.temporal): exact bytes, exact round trips over the full ranges, zones and fold,
determinism and its canonical variants, clear refusals, hostile bytes, the registry rule, and Beam's timestamps."""

from __future__ import annotations

import datetime
import random
import subprocess
import sys
import zoneinfo

import pandas as pd
import pytest
from hypothesis import given, settings

import coders
from coders import DecodeError, EncodeError
from coders.primitives import TimestampCoder
from coders.temporal import (
    CanonicalDateTimeCoder,
    CanonicalTimeCoder,
    DateCoder,
    DateTimeCoder,
    PandasTimestampCoder,
    TimeCoder,
    TimeDeltaCoder,
)
from coders.testing import assert_deterministic, assert_roundtrip, first_difference, strategy_for
from coders.typecoders import CoderRegistry

UTC = datetime.UTC
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
PLUS_2 = datetime.timezone(datetime.timedelta(hours=2))
ODD = datetime.timezone(datetime.timedelta(hours=5, minutes=30, seconds=15, microseconds=7))
NAMED = datetime.timezone(datetime.timedelta(hours=-3), "BRT")
D, DT, T, TD = datetime.date, datetime.datetime, datetime.time, datetime.timedelta

# ---- exact bytes (the same in both contexts) -----------------------------------------------------

HEX = [
    (DateCoder(), D(1, 1, 1), "01"),
    (DateCoder(), D(2024, 1, 1), "c6 8c 2d"),
    (DateCoder(), D(9999, 12, 31), "db f3 de 01"),
    (TimeDeltaCoder(), TD(0), "00 00"),
    (TimeDeltaCoder(), TD(days=1), "02 00"),
    (TimeDeltaCoder(), TD(microseconds=-1), "01 ff bf dd ee c1 02"),
    (TimeDeltaCoder(), TD(seconds=90, microseconds=5), "00 85 95 f5 2a"),
    (DateTimeCoder(), DT(1, 1, 1), "00 00 00 00 00 00 00 00 00"),
    (DateTimeCoder(), DT(2024, 1, 2, 3, 4, 5, 6), "00 00 e2 cd ec bf 79 93 46"),
    (DateTimeCoder(), DT(2024, 1, 2, 3, 4, 5, 6, fold=1), "01 00 e2 cd ec bf 79 93 46"),
    (DateTimeCoder(), DT(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "02 00 e2 cd ec bf 79 93 46"),
    (DateTimeCoder(), DT(2024, 1, 1, tzinfo=PLUS_2), "04 00 e2 cd d6 0f 4c e0 00 80 a0 ba d2 35"),
    (DateTimeCoder(), DT(2024, 1, 1, tzinfo=NAMED), "06 00 e2 cd d6 0f 4c e0 00 ff af d7 bb 50 03 42 52 54"),
    (
        DateTimeCoder(),
        DT(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN),
        "09 00 e2 e5 6b 20 22 7a 00 0d 45 75 72 6f 70 65 2f 42 65 72 6c 69 6e",
    ),
    (DateTimeCoder(), DT.max, "00 04 61 04 0b cb 9f 1f ff"),
    (TimeCoder(), T(0), "00 00"),
    (TimeCoder(), T(12, 30), "00 80 84 d6 d1 a7 01"),
    (TimeCoder(), T(1, fold=1, tzinfo=UTC), "03 80 c8 ce b4 0d"),
    (CanonicalDateTimeCoder(), DT(2024, 1, 1, 2, tzinfo=PLUS_2), "02 00 e2 cd d6 0f 4c e0 00"),
    (CanonicalTimeCoder(), T(12, 30, fold=1), "00 80 84 d6 d1 a7 01"),
]


@pytest.mark.parametrize("coder, value, hex_", HEX, ids=[f"{type(c).__name__}-{v!r}" for c, v, _ in HEX])
def test_exact_bytes_in_both_contexts(coder, value, hex_):
    expected = bytes.fromhex(hex_)
    assert coder.encode(value) == expected
    assert coder.encode_nested(value) == expected
    out = bytearray(b"\x07")
    coder.encode_to(value, out, True)
    assert bytes(out) == b"\x07" + expected


# ---- exact round trips: the edges, every zone kind, fold ------------------------------------------

EDGES = {
    DateCoder(): [D.min, D.max, D(2024, 2, 29), D(1970, 1, 1)],
    TimeDeltaCoder(): [TD.min, TD.max, TD(0), TD(microseconds=-1), TD(days=-1, seconds=86399), TD.resolution],
    DateTimeCoder(): [
        DT.min,
        DT.max,
        DT(2024, 3, 1, 12, 0, 0, 123456),
        DT(2024, 10, 27, 2, 30, fold=1),  # naive fold is kept, although == ignores it
        DT.min.replace(tzinfo=UTC),
        DT.max.replace(tzinfo=UTC),
        DT(2024, 10, 27, 2, 30, tzinfo=BERLIN),
        DT(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN),  # the repeated hour, second time round
        DT(2024, 3, 10, 2, 30, tzinfo=NEW_YORK),  # in the spring-forward gap
        DT(2024, 1, 1, tzinfo=PLUS_2),
        DT(2024, 1, 1, tzinfo=ODD),
        DT(2024, 1, 1, tzinfo=NAMED),
        DT.min.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=23, minutes=59))),
        DT.max.replace(tzinfo=datetime.timezone(-datetime.timedelta(hours=23, minutes=59))),
        DT(2024, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(0), "Zulu")),
    ],
    TimeCoder(): [
        T.min,
        T.max,
        T(1, 2, 3, 4, fold=1),
        T(12, tzinfo=UTC),
        T(12, tzinfo=ODD),
        T(12, tzinfo=NAMED),
        T(12, tzinfo=BERLIN),
    ],
    CanonicalDateTimeCoder(): [DT.min, DT.max, DT(2024, 1, 1, tzinfo=UTC)],
    CanonicalTimeCoder(): [T.min, T.max, T(23, 59, 59, 999999)],
}


@pytest.mark.parametrize("coder", list(EDGES), ids=lambda c: type(c).__name__)
def test_edge_values_round_trip_exactly(coder):
    assert_roundtrip(coder, *EDGES[coder])
    for value in EDGES[coder]:
        assert repr(coder.decode(coder.encode(value))) == repr(value)


@pytest.mark.parametrize(
    "coder",
    [DateCoder(), TimeDeltaCoder(), DateTimeCoder(), TimeCoder(), CanonicalDateTimeCoder(), CanonicalTimeCoder()],
    ids=lambda c: type(c).__name__,
)
def test_generated_values_round_trip_exactly(coder):
    @settings(max_examples=150, deadline=None)
    @given(strategy_for(coder))
    def check(value):
        assert_roundtrip(coder, value)

    check()


def test_zoneinfo_comes_back_as_the_same_cached_zone_and_an_uncached_one_by_key():
    coder = DateTimeCoder()
    back = coder.decode(coder.encode(DT(2024, 7, 1, tzinfo=BERLIN)))
    assert back.tzinfo is BERLIN
    uncached = DT(2024, 7, 1, tzinfo=zoneinfo.ZoneInfo.no_cache("Europe/Berlin"))
    assert coder.encode(uncached) == coder.encode(DT(2024, 7, 1, tzinfo=BERLIN))


# ---- determinism ---------------------------------------------------------------------------------


def test_dates_and_timedeltas_are_deterministic():
    assert_deterministic(DateCoder(), D(2024, 1, 1), D.max)
    assert_deterministic(TimeDeltaCoder(), TD(days=-2, microseconds=3), TD.max)


def test_aware_datetimes_are_not_deterministic_and_the_canonical_variant_writes_the_utc_instant():
    coder = DateTimeCoder()
    assert not coder.is_deterministic()
    (issue,) = coder.determinism_issues()
    assert "the same instant in two zones compares equal" in issue.reason
    assert "CanonicalDateTimeCoder" in issue.fix and "keys lose the zone" in issue.fix
    berlin, utc = DT(2024, 5, 1, 12, tzinfo=BERLIN), DT(2024, 5, 1, 10, tzinfo=UTC)
    assert berlin == utc and coder.encode(berlin) != coder.encode(utc)

    canonical = coder.as_deterministic_coder()
    assert canonical == CanonicalDateTimeCoder() and canonical.is_deterministic()
    assert canonical.encode(berlin) == canonical.encode(utc) == coder.encode(utc)
    back = canonical.decode(canonical.encode(berlin))
    assert back == berlin and back.tzinfo is UTC  # the zone is lost, the instant kept
    # naive values: fold is ignored by ==, so it is written as 0
    assert canonical.encode(DT(2024, 1, 1, fold=1)) == canonical.encode(DT(2024, 1, 1)) == coder.encode(DT(2024, 1, 1))
    # either coder decodes the other's bytes
    assert coder.decode(canonical.encode(berlin)) == berlin
    assert canonical.decode(coder.encode(berlin)).tzinfo is BERLIN
    assert coders.get_coder(tuple[datetime.datetime, int]).as_deterministic_coder() == coders.TupleCoder(
        CanonicalDateTimeCoder(), coders.get_coder(int)
    )


def test_times_canonical_variant_takes_naive_times_only():
    assert not TimeCoder().is_deterministic()
    canonical = TimeCoder().as_deterministic_coder()
    assert canonical == CanonicalTimeCoder() and canonical.is_deterministic()
    assert_deterministic(canonical, T(1, 2), T.max)
    with pytest.raises(EncodeError, match=r"a naive datetime.time .*key on naive times"):
        canonical.encode(T(1, tzinfo=UTC))


def test_date_store_keys_are_deterministic():
    key = coders.get_coder(tuple[datetime.date, int])
    assert key.is_deterministic()
    assert key.encode((D(2024, 5, 1), 7)) == bytes.fromhex("bf 8d 2d 07")


# ---- refusals: a clear EncodeError naming the class and the fix -----------------------------------


def test_unknown_tzinfo_classes_are_refused_naming_the_class_and_the_fix():
    class LegacyZone(datetime.tzinfo):  # a pytz- or dateutil-style zone: not rebuildable from bytes
        zone = "Europe/Berlin"

        def utcoffset(self, dt):
            return datetime.timedelta(hours=2)

    with pytest.raises(EncodeError) as caught:
        DateTimeCoder().encode(DT(2024, 5, 1, 12, tzinfo=LegacyZone()))
    message = str(caught.value)
    assert "its tzinfo is " in message and "LegacyZone, which cannot be rebuilt exactly from bytes" in message
    assert "convert it to a zoneinfo.ZoneInfo or a datetime.timezone first" in message
    assert "dt.astimezone(zoneinfo.ZoneInfo(dt.tzinfo.zone))" in message

    class Custom(datetime.tzinfo):
        def utcoffset(self, dt):
            return datetime.timedelta(hours=1)

    with pytest.raises(EncodeError, match=r"its tzinfo is .*Custom, which cannot be rebuilt exactly from bytes"):
        TimeCoder().encode(T(1, tzinfo=Custom()))
    with pytest.raises(EncodeError, match="its tzinfo is .*Custom"):
        CanonicalDateTimeCoder().encode(DT(2024, 1, 1, tzinfo=Custom()))


def test_zoneinfo_without_a_key_is_refused():
    import importlib.resources

    with (importlib.resources.files("tzdata.zoneinfo.Europe") / "Berlin").open("rb") as f:
        keyless = zoneinfo.ZoneInfo.from_file(f)
    with pytest.raises(EncodeError, match=r"a ZoneInfo with a key .*use zoneinfo.ZoneInfo\(key\)"):
        DateTimeCoder().encode(DT(2024, 1, 1, tzinfo=keyless))


def test_wrong_types_are_refused_with_the_fix():
    with pytest.raises(EncodeError, match=r"a datetime would come back without its time.*value.date\(\)"):
        DateCoder().encode(DT(2024, 1, 1))
    with pytest.raises(EncodeError, match="DateTimeCoder expected a datetime.datetime, got date"):
        DateTimeCoder().encode(D(2024, 1, 1))
    with pytest.raises(EncodeError, match="TimeDeltaCoder expected a datetime.timedelta, got int"):
        TimeDeltaCoder().encode(5)
    with pytest.raises(EncodeError, match="TimeCoder expected a datetime.time"):
        TimeCoder().encode(DT(2024, 1, 1))


def test_a_pandas_timestamp_in_a_datetime_field_is_narrowed_when_exact_and_refused_with_nanoseconds():
    coder = DateTimeCoder()
    exact = pd.Timestamp("2024-05-01 12:00:00.123456", tz=BERLIN)
    back = coder.decode(coder.encode(exact))
    assert type(back) is DT and back == exact and back.tzinfo is BERLIN
    with pytest.raises(EncodeError, match=r"pandas.Timestamp with nanoseconds would lose them.*PandasTimestampCoder"):
        coder.encode(pd.Timestamp("2024-05-01 12:00:00.123456789"))


# ---- pandas.Timestamp ----------------------------------------------------------------------------


def test_pandas_timestamps_keep_nanoseconds_unit_zone_and_fold():
    coder = PandasTimestampCoder()
    values = [
        pd.Timestamp("2024-03-01 12:00:00.123456789", tz="Europe/Berlin"),
        pd.Timestamp("2024-03-01 12:00:00.123456789"),
        pd.Timestamp(DT(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN)),
        pd.Timestamp("2024-01-01", tz="UTC"),
        pd.Timestamp("2024-01-01", tz="+02:00"),
        pd.Timestamp("1500-01-01").as_unit("s"),
        pd.Timestamp("2024-01-01 00:00:01.5").as_unit("ms"),
        pd.Timestamp.min,
        pd.Timestamp.max,
    ]
    assert_roundtrip(coder, *values)
    assert coder.encode(values[0]).hex(" ") == (
        "08 03 17 b8 9e ed 2f 33 ad 15 0d 45 75 72 6f 70 65 2f 42 65 72 6c 69 6e"
    )
    for value in values:
        back = coder.decode(coder.encode(value))
        assert (back.unit, back.tz, back.fold, back.nanosecond) == (value.unit, value.tz, value.fold, value.nanosecond)
    with pytest.raises(EncodeError, match="PandasTimestampCoder expected a pandas.Timestamp, got NaTType"):
        coder.encode(pd.NaT)
    assert not coder.is_deterministic()


def test_pandas_generated_values_round_trip_exactly():
    coder = PandasTimestampCoder()

    @settings(max_examples=100, deadline=None)
    @given(strategy_for(coder))
    def check(value):
        assert_roundtrip(coder, value)

    check()


# ---- hostile bytes: DecodeError only ---------------------------------------------------------------

FUZZED = [
    (DateCoder(), [D(2024, 1, 1)]),
    (TimeDeltaCoder(), [TD(days=-5, microseconds=77)]),
    (DateTimeCoder(), [DT(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN), DT(2024, 1, 1, tzinfo=NAMED)]),
    (TimeCoder(), [T(12, tzinfo=ODD), T(3, tzinfo=BERLIN)]),
    (PandasTimestampCoder(), [pd.Timestamp("2024-03-01 12:00:00.123456789", tz="Europe/Berlin")]),
]


@pytest.mark.parametrize("coder, values", FUZZED, ids=[type(c).__name__ for c, _ in FUZZED])
def test_random_and_mutated_bytes_raise_only_decode_error(coder, values):
    rng = random.Random(9)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30))) for _ in range(400)]
    for value in values:
        good = coder.encode(value)
        for _ in range(400):
            data = bytearray(good)
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            samples.append(bytes(data))
        samples += [good[:i] for i in range(len(good))]
    for data in samples:
        for decode in (coder.decode, coder.decode_nested):
            try:
                decode(data)
            except DecodeError:
                pass


@pytest.mark.parametrize(
    "key, message",
    [
        (b"../../etc/passwd", "is not a time zone this machine knows"),
        (b"/etc/passwd", "is not a time zone this machine knows"),
        (b"America", "is not a time zone this machine knows"),
        (b"Nope/Zone", "is not a time zone this machine knows"),
        (b"\xff\xfe", "is not a time zone this machine knows"),
        (b"a" * 300, "is not a time zone this machine knows"),
    ],
)
def test_hostile_zone_keys_are_decode_errors(key, message):
    data = bytes.fromhex("08 00 e2 cd d6 0f 4c e0 00") + bytes([len(key)] if len(key) < 128 else [0xAC, 0x02]) + key
    with pytest.raises(DecodeError, match=message):
        DateTimeCoder().decode(data)


@pytest.mark.parametrize(
    "coder, hex_, message",
    [
        (DateCoder(), "00", "date ordinal 0 is outside 1..3652059"),
        (DateCoder(), "dc f3 de 01", "date ordinal 3652060"),
        (TimeDeltaCoder(), "00 80 c0 dd ee c1 02", "microseconds within the day 86400000000 is not below"),
        (TimeDeltaCoder(), "80 a8 d6 b9 07 00", "timedelta days 1000000000"),
        (DateTimeCoder(), "0a 00 00 00 00 00 00 00 00", "invalid zone header 0x0a"),
        (DateTimeCoder(), "00 04 61 04 0b cb 9f 20 00", "beyond 9999-12-31T23:59:59.999999"),
        (DateTimeCoder(), "00 00 00", "a datetime needs 9 bytes but 3 remain"),
        (
            DateTimeCoder(),
            "04 00 00 00 00 00 00 00 00 80 80 bb dd 83 05",
            "offset 86400000000 us is not strictly within one day",
        ),
        (TimeCoder(), "00 80 c0 dd ee c1 02", "time microseconds 86400000000 is not below one day"),
        (PandasTimestampCoder(), "00 04 00 00 00 00 00 00 00 00", "invalid Timestamp unit byte 4"),
        (PandasTimestampCoder(), "00 03 80 00 00 00 00 00 00 00", "decodes to NaT"),
    ],
)
def test_invalid_fields_are_named(coder, hex_, message):
    with pytest.raises(DecodeError, match=message):
        coder.decode(bytes.fromhex(hex_))


# ---- the registry rule ----------------------------------------------------------------------------


def test_the_registry_gives_the_exact_coders():
    registry = CoderRegistry(strict=True)
    assert registry.get_coder(datetime.datetime) == DateTimeCoder()
    assert registry.get_coder(datetime.date) == DateCoder()
    assert registry.get_coder(datetime.time) == TimeCoder()
    assert registry.get_coder(datetime.timedelta) == TimeDeltaCoder()
    assert registry.get_coder(pd.Timestamp) == PandasTimestampCoder()
    from apache_beam.utils.timestamp import Timestamp

    assert registry.get_coder(Timestamp) == TimestampCoder(as_beam_timestamp=True)


def test_the_pandas_rule_needs_pandas_already_imported_and_coders_never_imports_it():
    code = (
        "import sys, datetime, coders\n"
        "from coders.typecoders import CoderRegistry\n"
        "r = CoderRegistry(strict=True)\n"
        "for h in (datetime.datetime, datetime.date, datetime.time, datetime.timedelta):\n"
        "    c = r.get_coder(h); c.decode(c.encode(h.max))\n"
        "assert 'pandas' not in sys.modules and 'numpy' not in sys.modules, sorted(sys.modules)\n"
        "import pandas\n"
        "print(r.get_coder(pandas.Timestamp))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "PandasTimestampCoder"


def test_first_difference_sees_what_equality_ignores():
    berlin = DT(2024, 5, 1, 12, tzinfo=BERLIN)
    assert first_difference(berlin, berlin.astimezone(UTC)).startswith(
        "value: zone changed from zoneinfo.ZoneInfo(key='Europe/Berlin') to datetime.timezone.utc"
    )
    assert "fold changed from 0 to 1" in first_difference(DT(2024, 1, 1), DT(2024, 1, 1, fold=1))
    assert first_difference(berlin, berlin.replace(tzinfo=zoneinfo.ZoneInfo.no_cache("Europe/Berlin"))) is None


# ---- Beam's timestamps: TimestampCoder reads Beam's MIN_TIMESTAMP and MAX_TIMESTAMP ----------------


def test_timestamp_coder_matches_beam_at_the_ends_of_time():
    from apache_beam.coders.coders import TimestampCoder as BeamTimestampCoder
    from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP, Timestamp

    ours, beams = TimestampCoder(as_beam_timestamp=True), BeamTimestampCoder()
    for value in (MIN_TIMESTAMP, MAX_TIMESTAMP, Timestamp(0), Timestamp(micros=-5000)):
        raw = beams.encode(value)
        assert ours.encode(value) == raw and ours.encode_nested(value) == raw
        assert ours.decode(raw) == value == ours.decode_nested(raw)
        assert beams.decode(ours.encode(value)) == value
    assert ours.decode(beams.encode(MIN_TIMESTAMP)) == MIN_TIMESTAMP
    assert ours.decode(beams.encode(MAX_TIMESTAMP)) == MAX_TIMESTAMP
    # as a datetime they lie outside years 1-9999: a DecodeError that names them and the fix
    with pytest.raises(DecodeError, match=r"MIN_TIMESTAMP and MAX_TIMESTAMP are such values.*as_beam_timestamp=True"):
        TimestampCoder().decode(beams.encode(MAX_TIMESTAMP))
