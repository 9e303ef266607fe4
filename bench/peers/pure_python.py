"""Peer: the plain `csv` module, one loop over rows, no third-party package.

Written for speed the way a careful engineer would: csv.reader with tuple unpacking, compiled
regexes, a calendar check by table instead of strptime (several times slower per call), and ids
kept in one dict (id -> first row) so that every occurrence of a repeated id can be flagged.
"""

import csv
import re
from collections import Counter

from _common import FLOAT, ISIN, PATTERNS, REQUIRED, csv_path, emit

FLOAT_MATCH = re.compile(FLOAT).fullmatch
# `%Y-%m-%dT%H:%M:%S`, exactly two digits per field; ranges are checked below.
TIMESTAMP_MATCH = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
).fullmatch
ID_MATCH = re.compile(PATTERNS["txn_id"]).fullmatch
PHONE_MATCH = re.compile(PATTERNS["sender_phone"]).fullmatch
COUNTRY_MATCH = re.compile(PATTERNS["country"]).fullmatch
CURRENCIES, CHANNELS, STATUSES = (frozenset(ISIN[c]) for c in ("currency", "channel", "status"))
DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
COLUMN_ORDER = REQUIRED + ["agent_id"]


def timestamp_ok(text: str) -> bool:
    m = TIMESTAMP_MATCH(text)
    if m is None:
        return False
    year, month, day, hour, minute, second = map(int, m.groups())
    if not (1 <= month <= 12 and hour < 24 and minute < 60 and second < 60 and year >= 1):
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= day <= DAYS[month - 1] + (month == 2 and leap)


def number(col: str, text: str, failed: list[str]) -> float | None:
    if text == "":
        failed.append(f"{col}:not_null")
        return None
    if FLOAT_MATCH(text) is None:
        failed.append(f"{col}:type")
        return None
    return float(text)


def text_rule(col: str, text: str, ok: bool, rule: str, failed: list[str]) -> None:
    if text == "":
        failed.append(f"{col}:not_null")
    elif not ok:
        failed.append(f"{col}:{rule}")


def row_failures(rec: list[str]) -> list[str]:
    """Every rule the row fails, except txn_id:unique (a dataset-wide question)."""
    tid, ts, sender, receiver, amount_s, fee_s, currency, channel, status, country, _agent = rec
    failed: list[str] = []
    text_rule("txn_id", tid, ID_MATCH(tid) is not None, "pattern", failed)
    text_rule("timestamp", ts, timestamp_ok(ts), "type", failed)
    text_rule("sender_phone", sender, PHONE_MATCH(sender) is not None, "pattern", failed)
    text_rule("receiver_phone", receiver, PHONE_MATCH(receiver) is not None, "pattern", failed)
    amount = number("amount", amount_s, failed)
    fee = number("fee", fee_s, failed)
    if amount is not None:
        if not amount > 0:
            failed.append("amount:gt")
        if not amount <= 1_000_000:
            failed.append("amount:le")
    if fee is not None and not fee >= 0:
        failed.append("fee:ge")
    if amount is not None and fee is not None and not fee <= amount:
        failed.append("fee_within_amount")
    text_rule("currency", currency, currency in CURRENCIES, "isin", failed)
    text_rule("channel", channel, channel in CHANNELS, "isin", failed)
    text_rule("status", status, status in STATUSES, "isin", failed)
    text_rule("country", country, COUNTRY_MATCH(country) is not None, "pattern", failed)
    return failed


def main() -> None:
    failures: Counter[str] = Counter()
    invalid: set[int] = set()
    first_row: dict[str, int] = {}  # id -> row of its first occurrence
    repeated: set[int] = set()
    rows = 0
    with open(csv_path(), newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != COLUMN_ORDER:
            raise SystemExit(f"unexpected header {header}")
        for i, rec in enumerate(reader):
            rows += 1
            failed = row_failures(rec)
            if failed:
                failures.update(failed)
                invalid.add(i)
            tid = rec[0]
            if tid != "":
                first = first_row.setdefault(tid, i)
                if first != i:
                    repeated.add(first)
                    repeated.add(i)
    failures["txn_id:unique"] = len(repeated)
    emit(rows, len(invalid | repeated), failures)


if __name__ == "__main__":
    main()
