"""Exact coders for the datetime family: ``datetime``, ``date``, ``time``, ``timedelta``, ``pandas.Timestamp``.

Each keeps everything that makes two values differ: microseconds, naive vs aware, the zone
itself (a ``ZoneInfo`` key, a fixed offset down to the microsecond with its name, or UTC), and
``fold``. Beam's ``TimestampCoder`` (``coders.primitives``) keeps only the millisecond instant; it
stays the coder of Beam's own ``Timestamp``.

Wire format (the same bytes in the outer and the nested context; every value is self-delimiting):

* ``date``: varint ``date.toordinal()`` (1 for 0001-01-01, 738886 for 2024-01-01).
* ``timedelta``: zigzag varint ``days``, then varint ``seconds * 10**6 + microseconds``
  (timedelta's own normal form: 0 <= seconds < 86400, 0 <= microseconds < 10**6).
* ``datetime``: a header byte ``zone_tag << 1 | fold``, then 8 bytes big-endian: the wall-clock
  microseconds since 0001-01-01T00:00:00 (local time for an aware value), then the zone payload.
* ``time``: the header byte, then varint microseconds since midnight, then the zone payload.
* ``pandas.Timestamp``: the header byte, a unit byte (0 s, 1 ms, 2 us, 3 ns), 8 bytes big-endian
  signed: numpy's datetime64 integer in that unit (the UTC instant for an aware value), then the zone.

Zone tags and their payloads:

====  ==================  ===============================================================
tag   zone                payload
====  ==================  ===============================================================
0     naive (no tzinfo)   nothing
1     UTC                 nothing (``datetime.timezone.utc`` itself)
2     fixed offset        zigzag varint offset in microseconds (``timezone(timedelta(...))``)
3     named fixed offset  zigzag varint offset in microseconds, varint length, UTF-8 name
4     ``ZoneInfo``        varint length, UTF-8 key (``Europe/Berlin``)
====  ==================  ===============================================================

Other ``tzinfo`` classes (pytz, dateutil, a user's) are refused with an ``EncodeError`` naming the
class and the fix: they cannot be rebuilt exactly from bytes.

Determinism: dates and timedeltas are deterministic. Aware datetimes are not (the same instant in
two zones compares equal but keeps its zone), nor are values that differ only in ``fold`` (ignored
by ``==`` for naive values); ``CanonicalDateTimeCoder`` and ``CanonicalTimeCoder`` are the
deterministic variants.
"""

from __future__ import annotations

import datetime
import struct
import sys

from .base import WRAPPED, Coder
from .errors import DecodeError
from .naming import qualified_type_name
from .streams import read_length_prefixed, read_varint64, varint64_bytes

__all__ = [
    "CanonicalDateTimeCoder",
    "CanonicalTimeCoder",
    "DateCoder",
    "DateTimeCoder",
    "PandasTimestampCoder",
    "TimeCoder",
    "TimeDeltaCoder",
    "temporal_coder_for",
]

_datetime = datetime.datetime
_date = datetime.date
_time = datetime.time
_timedelta = datetime.timedelta
_timezone = datetime.timezone
_UTC = datetime.UTC

NAIVE, UTC, OFFSET, NAMED_OFFSET, ZONE = 0, 1, 2, 3, 4
_MAX_HEADER = ZONE << 1 | 1

_US = _timedelta(microseconds=1)
_DT_MIN = _datetime.min
_DT_MIN_UTC = _datetime.min.replace(tzinfo=_UTC)
_DT_MAX_MICROS = (_datetime.max - _DT_MIN) // _US
_DAY_US = 86_400_000_000
_HEAD_BE = struct.Struct(">BQ")  # header byte, unsigned 8-byte wall-clock microseconds
_PANDAS_BE = struct.Struct(">BBq")  # header, unit, signed datetime64 integer
_UNITS = ("s", "ms", "us", "ns")

_ZONE_FIX = (
    "convert it to a zoneinfo.ZoneInfo or a datetime.timezone first (for pytz: "
    "dt.astimezone(zoneinfo.ZoneInfo(dt.tzinfo.zone))), or register a coder for the type"
)


def _zigzag(n: int) -> int:
    return n << 1 if n >= 0 else (-n << 1) - 1


def _unzigzag(z: int) -> int:
    return z >> 1 if not z & 1 else -((z + 1) >> 1)


def _read_uvarint(data, pos: int, what: str) -> tuple[int, int]:
    """A varint that must be non-negative (zigzag values and counts are written unsigned)."""
    n, after = read_varint64(data, pos)
    if n < 0:
        raise DecodeError(f"{what}: varint {n} is negative, which this field never is", offset=pos)
    return n, after


# ---- zones: what is written for a tzinfo, and back -------------------------------------------------


def _zone_tag(coder: Coder, value, tz) -> tuple[int, bytes]:
    """The zone tag and payload for ``tz`` (not None), or the EncodeError naming its class and the fix."""
    if tz is _UTC:
        return UTC, b""
    if type(tz) is _timezone:
        offset = tz.utcoffset(None)
        raw = varint64_bytes(_zigzag(offset // _US))
        if tz.tzname(None) == _timezone(offset).tzname(None):
            return OFFSET, raw
        name = tz.tzname(None).encode("utf-8", "surrogatepass")
        return NAMED_OFFSET, raw + varint64_bytes(len(name)) + name
    zoneinfo = sys.modules.get("zoneinfo")
    if zoneinfo is not None and type(tz) is zoneinfo.ZoneInfo:
        if tz.key is None:
            raise coder._encode_error(
                value,
                "a ZoneInfo with a key (this one was built with ZoneInfo.from_file, so it has no name to write)",
                "use zoneinfo.ZoneInfo(key), e.g. ZoneInfo('Europe/Berlin')",
            )
        key = tz.key.encode("utf-8")
        return ZONE, varint64_bytes(len(key)) + key
    raise coder._encode_error(
        value,
        f"a value whose tzinfo is datetime.timezone or zoneinfo.ZoneInfo (its tzinfo is "
        f"{qualified_type_name(tz)}, which cannot be rebuilt exactly from bytes)",
        _ZONE_FIX,
    )


def _read_zone(tag: int, data, pos: int):
    """The tzinfo for ``tag`` and its payload at ``pos``: ``(tzinfo or None, new_pos)``."""
    if tag == NAIVE:
        return None, pos
    if tag == UTC:
        return _UTC, pos
    if tag == ZONE:
        start = pos
        raw, pos = read_length_prefixed(data, pos, "zone key")
        import zoneinfo

        try:
            return zoneinfo.ZoneInfo(raw.decode("utf-8")), pos
        except (ValueError, LookupError, OSError) as e:  # bad UTF-8, not a key, not installed
            raise DecodeError(
                f"zone key {raw[:80]!r} is not a time zone this machine knows ({type(e).__name__}: {e}); "
                f"install tzdata (pip install tzdata) if the key is real",
                offset=start,
            ) from None
    start = pos
    z, pos = _read_uvarint(data, pos, "zone offset")
    offset_us = _unzigzag(z)
    if not -_DAY_US < offset_us < _DAY_US:
        raise DecodeError(f"zone offset {offset_us} us is not strictly within one day", offset=start)
    offset = _timedelta(microseconds=offset_us)
    if tag == OFFSET:
        return _timezone(offset), pos
    name_at = pos
    raw, pos = read_length_prefixed(data, pos, "zone name")
    try:
        return _timezone(offset, raw.decode("utf-8", "surrogatepass")), pos
    except UnicodeDecodeError:
        raise DecodeError("zone name is not valid UTF-8", offset=name_at) from None


def _read_header(data, pos: int) -> int:
    if pos >= len(data):
        raise DecodeError("truncated input: expected a datetime header byte, found end of data", offset=pos)
    header = data[pos]
    if header > _MAX_HEADER:
        raise DecodeError(f"invalid zone header 0x{header:02x} (at most 0x{_MAX_HEADER:02x})", offset=pos)
    return header


class _Temporal(Coder):
    """Shared by this module's coders: no parameters, no components, same bytes in both contexts."""

    beam_coder = WRAPPED  # Beam pickles these types (or keeps only milliseconds, for datetimes)

    def __reduce__(self):
        return (type(self), ())

    def encode_nested(self, value):
        return self.encode(value)

    def decode_nested(self, data):
        return self.decode(data)


# ---- date -----------------------------------------------------------------------------------------


class DateCoder(_Temporal):
    """``datetime.date`` as varint ``toordinal()``: 2024-01-01 -> ``c6 8c 2d``. Deterministic.

    Only ``date`` itself: a ``datetime`` (a date subclass) would come back without its time.
    """

    def min_nested_size(self):
        return 1

    def value_strategy(self, child, st):
        return st.dates()

    def encode_to(self, value, out, nested):
        out += self.encode(value)

    def encode(self, value):
        if type(value) is _date:
            return varint64_bytes(value.toordinal())
        if isinstance(value, _datetime):
            raise self._encode_error(
                value,
                "a datetime.date (a datetime would come back without its time)",
                "pass value.date() for the day alone, or type the field datetime.datetime",
            )
        raise self._encode_error(value, "a datetime.date", "pass datetime.date(...) or type the field for the value")

    def decode_from(self, data, pos, nested):
        start = pos
        n, pos = read_varint64(data, pos)
        if not 1 <= n <= 3_652_059:
            raise DecodeError(f"date ordinal {n} is outside 1..3652059 (0001-01-01..9999-12-31)", offset=start)
        return _date.fromordinal(n), pos

    def to_type_hint(self):
        return _date


# ---- timedelta ------------------------------------------------------------------------------------


class TimeDeltaCoder(_Temporal):
    """``datetime.timedelta`` as zigzag varint days, then varint ``seconds * 10**6 + microseconds``.

    ``timedelta(days=1)`` -> ``02 00``; ``timedelta(microseconds=-1)`` -> ``01 ff bf dd ee c1 02``.
    Covers timedelta.min..timedelta.max; deterministic (timedelta keeps one normal form).
    """

    def min_nested_size(self):
        return 2

    def value_strategy(self, child, st):
        return st.timedeltas()

    def encode_to(self, value, out, nested):
        out += self.encode(value)

    def encode(self, value):
        if type(value) is not _timedelta:
            raise self._encode_error(value, "a datetime.timedelta", "pass datetime.timedelta(...)")
        return varint64_bytes(_zigzag(value.days)) + varint64_bytes(value.seconds * 1_000_000 + value.microseconds)

    def decode_from(self, data, pos, nested):
        start = pos
        z, pos = _read_uvarint(data, pos, "timedelta days")
        days = _unzigzag(z)
        if not -999_999_999 <= days <= 999_999_999:
            raise DecodeError(f"timedelta days {days} outside -999999999..999999999", offset=start)
        at = pos
        micros, pos = _read_uvarint(data, pos, "timedelta microseconds")
        if micros >= _DAY_US:
            raise DecodeError(f"timedelta microseconds within the day {micros} is not below one day", offset=at)
        return _timedelta(days, micros // 1_000_000, micros % 1_000_000), pos

    def to_type_hint(self):
        return _timedelta


# ---- datetime -------------------------------------------------------------------------------------


def _zone_strategy(st):
    """tzinfos this module codes: UTC, fixed offsets (seconds and microseconds too, named or not), ZoneInfo."""
    offsets = st.integers(-_DAY_US + 1, _DAY_US - 1).map(lambda us: _timedelta(microseconds=us))
    return (
        st.just(_UTC)
        | offsets.map(_timezone)
        | st.tuples(offsets, st.text(min_size=1, max_size=8)).map(lambda on: _timezone(on[0], on[1]))
        | st.timezones()
    )


class DateTimeCoder(_Temporal):
    """``datetime.datetime``, exactly: microseconds, naive or aware, the zone itself and ``fold``.

    Bytes: header ``zone_tag << 1 | fold``, 8 bytes big-endian wall-clock microseconds since
    0001-01-01T00:00:00, then the zone (see the module docstring). ``datetime(2024, 1, 2, 3, 4, 5, 6)``
    -> ``00 00 e2 cd ec bf 79 93 46``; with ``tzinfo=timezone.utc`` the header is ``02``.

    Not deterministic: the same instant in two zones compares equal but writes its own zone, and
    naive datetimes differing only in ``fold`` compare equal. ``as_deterministic_coder()`` gives
    ``CanonicalDateTimeCoder`` (aware values as their UTC instant).
    """

    def min_nested_size(self):
        return 9

    def value_strategy(self, child, st):
        naive = st.datetimes()
        aware = st.datetimes(timezones=_zone_strategy(st))
        return st.tuples(naive | aware, st.integers(0, 1)).map(lambda vf: vf[0].replace(fold=vf[1]))

    def encode_to(self, value, out, nested):
        out += self.encode(value)

    def encode(self, value):
        if type(value) is _datetime:
            tz = value.tzinfo
            if tz is None:
                return _HEAD_BE.pack(value.fold, (value - _DT_MIN) // _US)
            if tz is _UTC:  # both operands in UTC: the difference is the wall-clock one
                return _HEAD_BE.pack(UTC << 1 | value.fold, (value - _DT_MIN_UTC) // _US)
        else:
            value = self._plain(value)
        return self._encode_zoned(value)

    def _encode_zoned(self, value) -> bytes:
        tz = value.tzinfo
        wall = (value.replace(tzinfo=None) - _DT_MIN) // _US
        if tz is None:
            return _HEAD_BE.pack(value.fold, wall)
        tag, payload = _zone_tag(self, value, tz)
        return _HEAD_BE.pack(tag << 1 | value.fold, wall) + payload

    def _plain(self, value) -> _datetime:
        """A datetime subclass narrowed to datetime when nothing is lost (a pandas.Timestamp without
        nanoseconds); anything else is refused."""
        if not isinstance(value, _datetime):
            raise self._encode_error(value, "a datetime.datetime", "pass datetime.datetime(...)")
        if getattr(value, "nanosecond", 0):
            raise self._encode_error(
                value,
                f"a datetime.datetime ({qualified_type_name(value)} with nanoseconds would lose them)",
                "type the field pandas.Timestamp (PandasTimestampCoder keeps nanoseconds), or round to microseconds",
            )
        return _datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
            fold=value.fold,
        )

    def decode_from(self, data, pos, nested):
        if pos + 9 > len(data):
            raise DecodeError(f"truncated input: a datetime needs 9 bytes but {len(data) - pos} remain", offset=pos)
        header, wall = _HEAD_BE.unpack_from(data, pos)
        if header > _MAX_HEADER:
            raise DecodeError(f"invalid zone header 0x{header:02x} (at most 0x{_MAX_HEADER:02x})", offset=pos)
        if wall > _DT_MAX_MICROS:
            raise DecodeError(f"datetime microseconds {wall} beyond 9999-12-31T23:59:59.999999", offset=pos + 1)
        if header == 0:
            return _DT_MIN + _timedelta(0, 0, wall), pos + 9
        if header == UTC << 1:
            return _DT_MIN_UTC + _timedelta(0, 0, wall), pos + 9
        value = _DT_MIN + _timedelta(0, 0, wall)
        tz, end = _read_zone(header >> 1, data, pos + 9)
        return value.replace(tzinfo=tz, fold=header & 1), end

    def own_determinism_issues(self):
        return [
            (
                "the same instant in two zones compares equal but each writes its own zone, and naive datetimes "
                "that differ only in fold compare equal but write their fold",
                "use CanonicalDateTimeCoder (as_deterministic_coder()), which writes aware datetimes as their UTC "
                "instant and naive ones with fold 0 (keys lose the zone)",
            )
        ]

    def as_deterministic_coder(self, context=None):
        return CanonicalDateTimeCoder()

    def to_type_hint(self):
        return _datetime


class CanonicalDateTimeCoder(DateTimeCoder):
    """DateTimeCoder's deterministic variant: an aware datetime is written as its UTC instant.

    So keys lose the zone: a ``Europe/Berlin`` datetime decodes as the equal instant in UTC
    (``datetime.timezone.utc``), and fold is written as 0 for naive values (``==`` ignores it). The
    bytes are DateTimeCoder's for that UTC (or fold-0) value, so either coder decodes the other's.
    Deterministic: equal datetimes give equal bytes (naive and aware never compare equal). One
    corner Python itself leaves open: two datetimes sharing one tzinfo object compare by wall
    clock, so in a repeated hour fold=0 and fold=1 compare equal; they are different instants
    and group apart.
    """

    def value_strategy(self, child, st):
        # the values it gives back: naive with fold 0, aware in UTC
        return st.datetimes(timezones=st.none() | st.just(_UTC)).map(lambda v: v.replace(fold=0))

    def encode(self, value):
        if type(value) is not _datetime:
            value = self._plain(value)
        tz = value.tzinfo
        if tz is None:
            return _HEAD_BE.pack(0, (value - _DT_MIN) // _US)
        if tz is not _UTC:
            _zone_tag(self, value, tz)  # refuses a tzinfo the exact coder would refuse too
            if value.utcoffset() is None:
                raise self._encode_error(value, "a datetime whose tzinfo gives a UTC offset")
            value = value.astimezone(_UTC)
        return _HEAD_BE.pack(UTC << 1, (value - _DT_MIN_UTC) // _US)

    def own_determinism_issues(self):
        return []

    def as_deterministic_coder(self, context=None):
        return self


# ---- time -----------------------------------------------------------------------------------------


class TimeCoder(_Temporal):
    """``datetime.time``, exactly: header ``zone_tag << 1 | fold``, varint microseconds since midnight,
    then the zone. ``time(12, 30)`` -> ``00 80 84 d6 d1 a7 01``.

    Not deterministic: times with different zones can compare equal, and fold is ignored by ``==``.
    ``as_deterministic_coder()`` gives ``CanonicalTimeCoder`` (naive times, fold 0).
    """

    def min_nested_size(self):
        return 2

    def value_strategy(self, child, st):
        zones = st.none() | _zone_strategy(st)
        return st.tuples(st.times(timezones=zones), st.integers(0, 1)).map(lambda vf: vf[0].replace(fold=vf[1]))

    def encode_to(self, value, out, nested):
        out += self.encode(value)

    def _micros(self, value) -> int:
        if type(value) is not _time:
            raise self._encode_error(value, "a datetime.time", "pass datetime.time(...)")
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond

    def encode(self, value):
        micros = self._micros(value)
        tz = value.tzinfo
        if tz is None:
            return bytes((value.fold,)) + varint64_bytes(micros)
        tag, payload = _zone_tag(self, value, tz)
        return bytes((tag << 1 | value.fold,)) + varint64_bytes(micros) + payload

    def decode_from(self, data, pos, nested):
        header = _read_header(data, pos)
        at = pos + 1
        micros, pos = _read_uvarint(data, at, "time microseconds")
        if micros >= _DAY_US:
            raise DecodeError(f"time microseconds {micros} is not below one day", offset=at)
        tz, pos = _read_zone(header >> 1, data, pos)
        seconds, us = divmod(micros, 1_000_000)
        minutes, s = divmod(seconds, 60)
        return _time(minutes // 60, minutes % 60, s, us, tz, fold=header & 1), pos

    def own_determinism_issues(self):
        return [
            (
                "times in different zones can compare equal but write their own zone, and fold is ignored by ==",
                "use CanonicalTimeCoder (as_deterministic_coder()), which takes naive times and writes fold 0",
            )
        ]

    def as_deterministic_coder(self, context=None):
        return CanonicalTimeCoder()

    def to_type_hint(self):
        return _time


class CanonicalTimeCoder(TimeCoder):
    """TimeCoder's deterministic variant: naive times only, fold written as 0; TimeCoder's bytes.

    A time with a tzinfo is refused: a time has no date, so it has no instant to write, and times
    of different zones compare by offset-adjusted minutes. Deterministic.
    """

    def value_strategy(self, child, st):
        return st.times().map(lambda v: v.replace(fold=0))

    def encode(self, value):
        micros = self._micros(value)
        if value.tzinfo is not None:
            raise self._encode_error(
                value,
                "a naive datetime.time (an aware time has no canonical bytes: it has no date, so no instant)",
                "key on naive times (t.replace(tzinfo=None)), or on an aware datetime",
            )
        return b"\x00" + varint64_bytes(micros)

    def own_determinism_issues(self):
        return []

    def as_deterministic_coder(self, context=None):
        return self


# ---- pandas.Timestamp -----------------------------------------------------------------------------


class PandasTimestampCoder(_Temporal):
    """``pandas.Timestamp``, exactly: nanoseconds, its unit (s/ms/us/ns), its zone and fold.

    Bytes: header ``zone_tag << 1 | fold``, unit byte (0 s, 1 ms, 2 us, 3 ns), 8 bytes big-endian
    signed numpy datetime64 integer in that unit (the UTC instant when aware), then the zone.
    ``pandas.NaT`` is refused (it is not a Timestamp). pandas is imported only from a value or a
    hint that proves it is in use. Not deterministic for aware values (zones) and has no
    deterministic variant: key on ``ts.value`` or a UTC Timestamp.
    """

    def min_nested_size(self):
        return 10

    def value_strategy(self, child, st):
        import pandas as pd

        naive = st.datetimes(min_value=_datetime(1700, 1, 1), max_value=_datetime(2250, 1, 1))
        zones = st.none() | st.just(_UTC) | st.timezones()
        return st.tuples(naive, zones, st.integers(0, 999), st.sampled_from(_UNITS)).map(lambda v: _pandas_value(pd, v))

    def encode_to(self, value, out, nested):
        out += self.encode(value)

    def encode(self, value):
        pd = sys.modules.get("pandas")
        if pd is None or type(value) is not pd.Timestamp:
            raise self._encode_error(value, "a pandas.Timestamp", "pass pandas.Timestamp(...)")
        unit = value.unit
        ticks = int(value.asm8.view("i8"))
        tz = value.tzinfo
        if tz is None:
            return _PANDAS_BE.pack(value.fold, _UNITS.index(unit), ticks)
        tag, payload = _zone_tag(self, value, tz)
        return _PANDAS_BE.pack(tag << 1 | value.fold, _UNITS.index(unit), ticks) + payload

    def decode_from(self, data, pos, nested):
        import numpy as np
        import pandas as pd

        if pos + 10 > len(data):
            raise DecodeError(f"truncated input: a Timestamp needs 10 bytes but {len(data) - pos} remain", offset=pos)
        header, unit, ticks = _PANDAS_BE.unpack_from(data, pos)
        if header > _MAX_HEADER:
            raise DecodeError(f"invalid zone header 0x{header:02x} (at most 0x{_MAX_HEADER:02x})", offset=pos)
        if unit >= len(_UNITS):
            raise DecodeError(f"invalid Timestamp unit byte {unit} (0 s, 1 ms, 2 us, 3 ns)", offset=pos + 1)
        tz, end = _read_zone(header >> 1, data, pos + 10)
        try:
            value = pd.Timestamp(np.datetime64(ticks, _UNITS[unit]))
            if tz is not None:
                value = value.tz_localize(_UTC).tz_convert(tz)
        except (ValueError, OverflowError) as e:  # NaT's integer, or beyond the unit's range
            raise DecodeError(f"Timestamp {ticks} {_UNITS[unit]} is not a valid Timestamp ({e})", offset=pos) from None
        if value is pd.NaT or type(value) is not pd.Timestamp:
            raise DecodeError(f"Timestamp {ticks} {_UNITS[unit]} decodes to NaT, which is not a Timestamp", offset=pos)
        if header & 1 and not value.fold:  # pandas keeps fold as given, in or out of a repeated hour
            value = value.replace(fold=1)
        return value, end

    def own_determinism_issues(self):
        return [
            (
                "the same instant in two zones compares equal but each writes its own zone",
                "key on ts.value (an int of nanoseconds) or on ts.tz_convert('UTC')",
            )
        ]

    def to_type_hint(self):
        import pandas as pd

        return pd.Timestamp


def _pandas_value(pd, v):
    naive, tz, nanos, unit = v
    ts = pd.Timestamp(naive).as_unit(unit)
    if unit == "ns":
        ts = ts + pd.Timedelta(nanoseconds=nanos)
    return ts if tz is None else ts.tz_localize(_UTC).tz_convert(tz)


# ---- the registry rule --------------------------------------------------------------------------------


_EXACT = {_datetime: DateTimeCoder, _date: DateCoder, _time: TimeCoder, _timedelta: TimeDeltaCoder}


def temporal_coder_for(hint) -> Coder | None:
    """The coder for a hint of the datetime family, or None (``typecoders.datetime_rule`` calls this).

    ``datetime``, ``date``, ``time``, ``timedelta``: this module's exact coders; ``pandas.Timestamp``
    (only when pandas is already imported): ``PandasTimestampCoder``; Beam's ``Timestamp``
    (recognised by name, so Beam is never imported): ``TimestampCoder(as_beam_timestamp=True)``.
    """
    cls = _EXACT.get(hint) if isinstance(hint, type) else None
    if cls is not None:
        return cls()
    if not isinstance(hint, type):
        return None
    if hint.__name__ == "Timestamp" and hint.__module__ == "apache_beam.utils.timestamp":
        from .primitives import TimestampCoder

        return TimestampCoder(as_beam_timestamp=True)
    pd = sys.modules.get("pandas")
    if pd is not None and hint is getattr(pd, "Timestamp", None):
        return PandasTimestampCoder()
    return None
