"""Spreadsheet serial dates: days since 1899-12-30, fractional for a time of day, as
Google Sheets and Excel count them (no 1900 leap-year bug from 1900-03-01 on)."""

from __future__ import annotations

import datetime as dt

__all__ = ["MAX_SERIAL", "SERIAL_EPOCH", "to_serial"]

#: Day 0 of spreadsheet serial numbers.
SERIAL_EPOCH = dt.datetime(1899, 12, 30)
#: The serial number of 9999-12-31, the last date a spreadsheet shows.
MAX_SERIAL = 2958465


def to_serial(value: dt.date | dt.datetime | dt.time | dt.timedelta) -> int | float:
    """A date as whole days since the epoch; a date-time (its wall-clock time, any time
    zone dropped), a time of day or a duration as fractional days."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - SERIAL_EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    if isinstance(value, dt.date):
        return (value - SERIAL_EPOCH.date()).days
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    return value.total_seconds() / 86400
