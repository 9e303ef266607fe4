"""The benchmark's rules as plain constants, shared by the peer scripts (bench/rules.json in short).

Patterns are written unanchored, for full-match functions (polars `^…$` with Rust regex, DuckDB
`regexp_full_match`, pandas `str.fullmatch`, Python `re.fullmatch`): every engine then agrees that a
value with a trailing newline does not match, as Rust's `$` (end of text) says.
"""

import json
import sys

TXN_ID = r"TX[0-9]{10}"
PHONE = r"\+2547[0-9]{8}"
COUNTRY = r"[A-Z]{2}"
# docs/spec.md's float grammar: `[+-]?(digits[.[digits]] | .digits)([eE][+-]?digits)?`. A prefilter
# before casting, so that NaN, inf, "1,000.5" and surrounding spaces are type failures everywhere.
FLOAT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
# The shape of `%Y-%m-%dT%H:%M:%S` (two digits exactly); the calendar is checked by a real parser.
TIMESTAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
CURRENCIES = ["KES", "UGX", "TZS", "NGN", "GHS", "ZAR", "USD"]
CHANNELS = ["USSD", "APP", "AGENT", "API"]
STATUSES = ["SUCCESS", "FAILED", "PENDING", "REVERSED"]
REQUIRED = [
    "txn_id",
    "timestamp",
    "sender_phone",
    "receiver_phone",
    "amount",
    "fee",
    "currency",
    "channel",
    "status",
    "country",
]
# Every column of the file, in order.
COLUMNS = [*REQUIRED, "agent_id"]
ISIN = {"currency": CURRENCIES, "channel": CHANNELS, "status": STATUSES}
PATTERNS = {"txn_id": TXN_ID, "sender_phone": PHONE, "receiver_phone": PHONE, "country": COUNTRY}

# pyrustpipe's rule names, in report order.
RULES = [
    "txn_id:not_null",
    "txn_id:pattern",
    "txn_id:unique",
    "timestamp:not_null",
    "timestamp:type",
    "sender_phone:not_null",
    "sender_phone:pattern",
    "receiver_phone:not_null",
    "receiver_phone:pattern",
    "amount:not_null",
    "amount:type",
    "amount:gt",
    "amount:le",
    "fee:not_null",
    "fee:type",
    "fee:ge",
    "currency:not_null",
    "currency:isin",
    "channel:not_null",
    "channel:isin",
    "status:not_null",
    "status:isin",
    "country:not_null",
    "country:pattern",
    "fee_within_amount",
]


def csv_path() -> str:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} FILE.csv")
    return sys.argv[1]


def emit(rows: int, invalid_rows: int, failures: dict[str, int]) -> None:
    """Print the one JSON line the harness reads; every rule is listed, zeros included."""
    unknown = set(failures) - set(RULES)
    if unknown:
        sys.exit(f"unknown rule names: {sorted(unknown)}")
    counts = {name: int(failures.get(name, 0)) for name in RULES}
    print(json.dumps({"rows": int(rows), "invalid_rows": int(invalid_rows), "failures": counts}))
