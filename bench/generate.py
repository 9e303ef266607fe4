"""Seeded generator of the benchmark's mobile-money transactions CSV (perf-baselines.md).

Clean rows are built column-wise with numpy/polars (fast: 10M rows in well under a minute); the
~1.5% faulty rows are mutated in a Python loop, one small function per fault kind. Each fault
function declares the column rules it breaks, so the ground truth (`--truth`) comes from what was
injected, not from re-validating the file. Only two things are computed afterwards, both from
values the generator itself chose: `fee_within_amount` (from the integer cents of fee and amount)
and `txn_id:unique` (from occurrence counts of the final ids).

    python bench/generate.py --rows 1000000 --seed 42 --out bench/data/tx.csv --truth tx.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

COLUMNS = [
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
    "agent_id",
]
CURRENCIES = ["KES", "UGX", "TZS", "NGN", "GHS", "ZAR", "USD"]
CHANNELS = ["USSD", "APP", "AGENT", "API"]
STATUSES = ["SUCCESS", "FAILED", "PENDING", "REVERSED"]
# "NA" is Namibia: a real code that pandas' default NA handling silently turns into a null.
COUNTRIES = ["KE", "UG", "TZ", "NG", "GH", "ZA", "NA", "RW"]

# An affine map i -> (A*i + B) mod 10^10 is a bijection when A is coprime to 10, so clean ids are
# distinct without a hash set, yet look random.
ID_MODULUS = 10**10
ID_MULTIPLIER = 6_364_136_223
EPOCH_2025 = 1_735_689_600  # 2025-01-01T00:00:00Z
TWO_YEARS_S = 2 * 365 * 86_400


@dataclass
class Row:
    """One row being mutated: field values (None = empty field) and the numbers behind them."""

    values: dict[str, str | None]
    amount_cents: int | None  # None when amount is null or does not parse
    fee_cents: int | None
    rules: set[str] = field(default_factory=set)


# ---------------------------------------------------------------------------------------------
# Clean data, column-wise


def _cents_text(cents: pl.Expr) -> pl.Expr:
    """Integer cents -> "123.45". Exact: float("123.45") == 12345 / 100 in IEEE arithmetic."""
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def clean_frame(rows: int, rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Valid rows only; returns the frame and the amount / fee in integer cents."""
    idx = np.arange(rows, dtype=np.int64)
    ids = (ID_MULTIPLIER * idx + int(rng.integers(ID_MODULUS))) % ID_MODULUS
    stamps = np.sort(rng.integers(EPOCH_2025, EPOCH_2025 + TWO_YEARS_S, rows))
    # Amounts: log-normal around ~2,000 (mobile money is mostly small payments), in [0.01, 1e6].
    amount = np.clip(np.rint(np.exp(rng.normal(7.5, 1.6, rows)) * 100), 1, 100_000_000)
    amount = amount.astype(np.int64)
    fee_rate = rng.choice(np.array([0.0, 0.005, 0.01, 0.015]), rows, p=[0.2, 0.3, 0.3, 0.2])
    fee = np.floor(amount * fee_rate).astype(np.int64)
    channel = rng.choice(len(CHANNELS), rows, p=[0.45, 0.3, 0.2, 0.05])
    raw = pl.DataFrame(
        {
            "id": ids,
            "ts": stamps,
            "sp": rng.integers(0, 10**8, rows),
            "rp": rng.integers(0, 10**8, rows),
            "amount": amount,
            "fee": fee,
            "currency": rng.choice(
                len(CURRENCIES), rows, p=[0.6, 0.1, 0.1, 0.08, 0.05, 0.04, 0.03]
            ),
            "channel": channel,
            "status": rng.choice(len(STATUSES), rows, p=[0.9, 0.05, 0.03, 0.02]),
            "country": rng.choice(
                len(COUNTRIES), rows, p=[0.6, 0.1, 0.1, 0.07, 0.05, 0.04, 0.02, 0.02]
            ),
            "agent": rng.integers(0, 10**6, rows),
        }
    )

    def pick(col: str, choices: list[str]) -> pl.Expr:
        return pl.col(col).replace_strict(
            list(range(len(choices))), choices, return_dtype=pl.String
        )

    frame = raw.select(
        txn_id=pl.lit("TX") + pl.col("id").cast(pl.String).str.zfill(10),
        timestamp=pl.from_epoch("ts", time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        sender_phone=pl.lit("+2547") + pl.col("sp").cast(pl.String).str.zfill(8),
        receiver_phone=pl.lit("+2547") + pl.col("rp").cast(pl.String).str.zfill(8),
        amount=_cents_text(pl.col("amount")),
        fee=_cents_text(pl.col("fee")),
        currency=pick("currency", CURRENCIES),
        channel=pick("channel", CHANNELS),
        status=pick("status", STATUSES),
        country=pick("country", COUNTRIES),
        # Only agent transactions carry an agent: the nullable column is mostly empty.
        agent_id=pl.when(pl.col("channel") == CHANNELS.index("AGENT"))
        .then(pl.lit("AG") + pl.col("agent").cast(pl.String).str.zfill(6))
        .otherwise(None),
    )
    return frame, amount, fee


# ---------------------------------------------------------------------------------------------
# Faults: each mutates one column of a valid row and declares the rules that now fail.
# Numeric consequences for the row rule are recorded through amount_cents / fee_cents.

Fault = Callable[[Row, np.random.Generator], None]


def _choose(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(len(options)))]


def _set(row: Row, col: str, value: str | None, rule: str) -> None:
    row.values[col] = value
    row.rules.add(f"{col}:{rule}")


def fault_txn_id(row: Row, rng: np.random.Generator) -> None:
    tid = row.values["txn_id"] or ""
    digits = tid[2:]
    if rng.random() < 0.1:
        _set(row, "txn_id", None, "not_null")
        return
    bad = _choose(
        rng,
        [
            "tx" + digits,
            "TX" + digits[:-1],
            "TX" + digits + "7",
            "TX" + digits[:5] + "ABCDE",
            " " + tid,
            tid[:6] + "," + tid[6:],
            "T" + digits,
            "TX-" + digits,
        ],
    )
    _set(row, "txn_id", bad, "pattern")


def fault_timestamp(row: Row, rng: np.random.Generator) -> None:
    if rng.random() < 0.1:
        _set(row, "timestamp", None, "not_null")
        return
    ts = row.values["timestamp"] or "2025-06-01T12:00:00"
    bad = _choose(
        rng,
        [
            "2026-02-30T10:15:00",
            "2025-02-29T08:00:00",
            "2025-04-31T23:00:00",  # not real days
            ts[:11] + "25" + ts[13:],
            ts[:14] + "61" + ts[16:],
            "2025-13-01T00:00:00",  # out of range
            ts.replace("T", " "),
            ts[:10],
            ts + "Z",
            ts + ".5",  # does not match the format exactly
            "2025-1-5T10:00:00",
            "05/01/2025 10:00:00",
            "not a date",
        ],
    )
    _set(row, "timestamp", bad, "type")


def fault_phone(row: Row, rng: np.random.Generator) -> None:
    col = "sender_phone" if rng.random() < 0.5 else "receiver_phone"
    if rng.random() < 0.1:
        _set(row, col, None, "not_null")
        return
    phone = row.values[col] or "+254712345678"
    local = phone[4:]
    bad = _choose(
        rng,
        [
            "0" + local,
            phone[:-1],
            phone + "9",
            "+255" + local,
            "254" + local,
            phone[:4] + " " + local[:3] + " " + local[3:],
            "+2541" + local[1:],
            phone + "\n",  # a quoted trailing newline: `$` is end of text in Rust regex
        ],
    )
    _set(row, col, bad, "pattern")


def fault_amount(row: Row, rng: np.random.Generator) -> None:
    amount = row.amount_cents or 100
    text = f"{amount // 100}.{amount % 100:02d}"
    kind = int(rng.integers(5))
    if kind == 0:  # negative
        row.amount_cents = -amount
        _set(row, "amount", "-" + text, "gt")
    elif kind == 1:  # zero, in several spellings
        row.amount_cents = 0
        _set(row, "amount", _choose(rng, ["0", "0.00", "-0.00", "0e5", ".00"]), "gt")
    elif kind == 2:  # above the bound (1,000,000.00 itself is a valid boundary value)
        cents, spelled = [
            (100_000_001, "1000000.01"),
            (500_000_000, "5000000"),
            (9_999_999_999, "99999999.99"),
            (1_000_000_000, "1e7"),
            (123_400_000, "1.234E6"),
        ][int(rng.integers(5))]
        row.amount_cents = cents
        _set(row, "amount", spelled, "le")
    elif kind == 3:  # does not parse as a float
        row.amount_cents = None
        bad = _choose(
            rng,
            [
                "12,50",
                "1,000.50",
                "abc",
                "NaN",
                "nan",
                "inf",
                "-inf",
                "Infinity",
                " " + text,
                text + " ",
                text + " KES",
                "0x10",
                "1.2.3",
                "1e",
                "e5",
                "--5",
                "+",
                ".",
                "KES" + text,
            ],
        )
        _set(row, "amount", bad, "type")
    else:
        row.amount_cents = None
        _set(row, "amount", None, "not_null")


def fault_fee(row: Row, rng: np.random.Generator) -> None:
    kind = int(rng.integers(4))
    if kind == 0:  # above the amount: only the row rule fails
        # max(…, 0): a negative amount from a second fault must not make the fee negative too
        row.fee_cents = max(row.amount_cents or 0, 0) + int(rng.integers(1, 50_000))
        fee = row.fee_cents
        row.values["fee"] = f"{fee // 100}.{fee % 100:02d}"
    elif kind == 1:
        row.fee_cents = -int(rng.integers(1, 1_000))
        fee = -row.fee_cents
        _set(row, "fee", f"-{fee // 100}.{fee % 100:02d}", "ge")
    elif kind == 2:
        row.fee_cents = None
        _set(row, "fee", _choose(rng, ["abc", "NaN", "inf", "1,5", "N/A", "-", "0.5%"]), "type")
    else:
        row.fee_cents = None
        _set(row, "fee", None, "not_null")


def _code_fault(col: str, valid: list[str]) -> Fault:
    def fault(row: Row, rng: np.random.Generator) -> None:
        if rng.random() < 0.15:
            _set(row, col, None, "not_null")
            return
        code = row.values[col] or valid[0]
        bad = _choose(rng, [code.lower(), code.title(), code + " ", "X" + code, "OTHER"])
        _set(row, col, bad, "isin")

    return fault


def fault_country(row: Row, rng: np.random.Generator) -> None:
    if rng.random() < 0.15:
        _set(row, "country", None, "not_null")
        return
    code = row.values["country"] or "KE"
    _set(
        row,
        "country",
        _choose(rng, [code.lower(), code.title(), code + "N", code[0], "K1"]),
        "pattern",
    )


FAULTS: list[tuple[Fault, float]] = [
    (fault_txn_id, 0.13),
    (fault_timestamp, 0.12),
    (fault_phone, 0.12),
    (fault_amount, 0.18),
    (fault_fee, 0.13),
    (_code_fault("currency", CURRENCIES), 0.09),
    (_code_fault("channel", CHANNELS), 0.05),
    (_code_fault("status", STATUSES), 0.05),
    (fault_country, 0.08),
]
# Duplicate ids are drawn as one more fault kind (the last index), but applied after the others:
# they copy values from clean rows, which must be final by then.
DUPLICATE_WEIGHT = 0.05


# ---------------------------------------------------------------------------------------------
# Valid-on-purpose specials: boundary values and spellings a strict validator must accept.


def special(row: Row, rng: np.random.Generator) -> None:
    kind = int(rng.integers(10))
    v = row.values
    if kind == 0:  # the upper bound itself
        v["amount"], row.amount_cents = _choose(rng, ["1000000", "1000000.00", "1e6"]), 100_000_000
    elif kind == 1:  # fee exactly zero
        v["fee"], row.fee_cents = _choose(rng, ["0", "0.00", "-0.00"]), 0
    elif kind == 2:  # fee equal to the amount
        v["fee"], row.fee_cents = v["amount"], row.amount_cents
    elif kind == 3:  # other spellings the float grammar accepts
        spelled, cents = [
            ("+250.00", 25_000),
            (".50", 50),
            ("1.5e3", 150_000),
            ("0.01", 1),
            ("25E2", 250_000),
        ][int(rng.integers(5))]
        v["amount"], row.amount_cents = spelled, cents
        v["fee"], row.fee_cents = "0", 0
    elif kind == 4:  # real calendar edges
        v["timestamp"] = _choose(
            rng, ["2024-02-29T23:59:59", "2025-12-31T23:59:59", "2025-01-01T00:00:00"]
        )
    elif kind in (5, 6):  # free-form agent ids that need quoting: comma, quote, newline
        v["agent_id"] = _choose(rng, ["AG12,345", 'AG"77"', "AG\n001", "AG 9", "NA"])
    else:  # Namibia, the NA trap, spelled out once more
        v["country"] = "NA"


# ---------------------------------------------------------------------------------------------


@dataclass
class Generated:
    frame: pl.DataFrame  # field values, None = empty field
    force_quote: np.ndarray  # rows whose every field is written quoted although valid
    truth: dict


def generate(rows: int, seed: int, error_rate: float = 0.015) -> Generated:
    rng = np.random.default_rng(seed)
    frame, amount, fee = clean_frame(rows, rng)
    roll = rng.random(rows)
    fault_idx = np.flatnonzero(roll < error_rate)
    special_idx = np.flatnonzero((roll >= error_rate) & (roll < error_rate + 0.004))
    weights = np.array([w for _, w in FAULTS] + [DUPLICATE_WEIGHT])
    kinds = rng.choice(len(weights), len(fault_idx), p=weights / weights.sum())
    dup_kind = len(FAULTS)

    dup_mask = kinds == dup_kind
    dup_rows = fault_idx[dup_mask].tolist()
    mutated = _rows(frame, np.concatenate([special_idx, fault_idx[~dup_mask]]), amount, fee)
    for i in special_idx.tolist():
        special(mutated[i], rng)
    for i, kind in zip(fault_idx[~dup_mask].tolist(), kinds[~dup_mask].tolist(), strict=True):
        row = mutated[i]
        FAULTS[kind][0](row, rng)
        if rng.random() < 0.1:  # a second fault in another column
            other = int(rng.integers(dup_kind))
            if other != kind:
                FAULTS[other][0](row, rng)
    frame = _scatter(frame, mutated)
    frame = _duplicate_ids(frame, dup_rows, fault_idx, rng)

    force_quote = np.zeros(rows, dtype=bool)
    force_quote[rng.random(rows) < 0.001] = True
    truth = _truth(frame, mutated)
    return Generated(frame, force_quote, truth)


def _rows(
    frame: pl.DataFrame, idx: np.ndarray, amount: np.ndarray, fee: np.ndarray
) -> dict[int, Row]:
    idx = np.sort(idx)
    dicts = frame[idx.tolist()].to_dicts()
    return {
        i: Row(d, int(amount[i]), int(fee[i])) for i, d in zip(idx.tolist(), dicts, strict=True)
    }


def _scatter(frame: pl.DataFrame, mutated: dict[int, Row]) -> pl.DataFrame:
    if not mutated:
        return frame
    idx = list(mutated)
    cols = []
    for col in COLUMNS:
        values = [mutated[i].values[col] for i in idx]
        cols.append(frame[col].scatter(idx, pl.Series(values, dtype=pl.String)))
    return pl.DataFrame(cols)


def _duplicate_ids(
    frame: pl.DataFrame, dup_rows: list[int], fault_idx: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    """Re-use the id of a clean row: half copy the whole row (a double submission), half the id."""
    if not dup_rows:
        return frame
    faulty = np.zeros(frame.height, dtype=bool)
    faulty[fault_idx] = True
    clean = np.flatnonzero(~faulty)
    sources = clean[rng.integers(0, len(clean), len(dup_rows))]
    whole = rng.random(len(dup_rows)) < 0.5
    targets = np.array(dup_rows)
    cols = []
    for col in COLUMNS:
        series = frame[col]
        take = sources if col == "txn_id" else sources[whole]
        where = targets if col == "txn_id" else targets[whole]
        cols.append(series.scatter(where.tolist(), series.gather(take.tolist())))
    return pl.DataFrame(cols)


def _truth(frame: pl.DataFrame, mutated: dict[int, Row]) -> dict:
    failures: Counter[str] = Counter()
    invalid = np.zeros(frame.height, dtype=bool)
    for i, row in mutated.items():
        rules = set(row.rules)
        a, f = row.amount_cents, row.fee_cents
        if a is not None and f is not None and f > a:
            rules.add("fee_within_amount")
        failures.update(rules)
        invalid[i] = bool(rules)
    ids = frame["txn_id"]
    repeated = ids.is_duplicated() & ids.is_not_null()
    failures["txn_id:unique"] = int(repeated.sum())
    invalid |= repeated.to_numpy()
    return {
        "rows": frame.height,
        "invalid_rows": int(invalid.sum()),
        "failures": {k: v for k, v in sorted(failures.items()) if v},
    }


def write_csv(gen: Generated, path: str | Path) -> None:
    """Write RFC 4180 text: quote a field when it needs it, or when its row is force-quoted."""
    force = pl.Series("force", gen.force_quote)
    frame = gen.frame.with_columns(force)

    def encode(col: str) -> pl.Expr:
        value = pl.col(col)
        quoted = pl.lit('"') + value.str.replace_all('"', '""', literal=True) + pl.lit('"')
        needs = value.str.contains('[,"\r\n]') | (pl.col("force") & value.is_not_null())
        return pl.when(needs).then(quoted).otherwise(value).fill_null("").alias(col)

    out = frame.select([encode(c) for c in COLUMNS])
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    out.write_csv(path, quote_style="never", include_header=True)


def make(
    rows: int,
    seed: int,
    out: str | Path,
    truth: str | Path | None = None,
    error_rate: float = 0.015,
) -> dict:
    """Generate and write; returns the ground truth. tests/data_gen.py reuses this function."""
    gen = generate(rows, seed, error_rate)
    write_csv(gen, out)
    if truth is not None:
        Path(truth).write_text(json.dumps(gen.truth, indent=1, sort_keys=True) + "\n")
    return gen.truth


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True)
    parser.add_argument("--truth", help="write the injected per-rule failure counts here (JSON)")
    parser.add_argument("--error-rate", type=float, default=0.015)
    args = parser.parse_args()
    start = time.perf_counter()
    truth = make(args.rows, args.seed, args.out, args.truth, args.error_rate)
    took = time.perf_counter() - start
    print(f"{args.out}: {truth['rows']} rows, {truth['invalid_rows']} invalid, {took:.1f} s")


if __name__ == "__main__":
    main()
