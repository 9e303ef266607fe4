"""String columns as real frames hold them: long texts (emails, names, notes), codes, names from
a list longer than a string view inlines, and the same columns as polars Categoricals, checked by
pyrustpipe and by the same rules as polars expressions, in one process.

    python bench/string_shapes.py --rows 1000000 [--repeat 5]

The transactions benchmark's strings are short (ids, phones, ISO codes); a customer table's are
not: most of its values are longer than the 12 bytes a string view keeps inline, so they are read
from the frame's data buffers. Two frames of the same seeded rows, one with `bank` and `segment`
as `pl.String`, one with them as `pl.Categorical` (dictionary-encoded, as polars, pandas and
Parquet readers often hold low-cardinality text). A few rows fail each rule: too-long emails and
notes, unknown banks and segments, repeated ids, missing names. The sides run in alternating
pairs; the ratio is the median of the pairs' ratios. Every rule's count must agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pyrustpipe as pp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from typed_path import mask_counts, our_counts, run_cases  # noqa: E402

BANKS = [
    "Kenya Commercial Bank",
    "Equity Bank Kenya",
    "Cooperative Bank of Kenya",
    "Standard Chartered Kenya",
    "Absa Bank Kenya",
    "NCBA Bank Kenya",
]
SEGMENTS = ["RETAIL", "SME", "CORPORATE", "PRIVATE"]
COUNTRIES = ["KE", "UG", "TZ", "RW"]


class Customers(pp.Schema):
    customer_id: str = pp.Field(pattern=r"^CU[0-9]{10}$", unique=True)
    name: str = pp.Field()
    email: str = pp.Field(max_length=64)
    bank: str = pp.Field(isin=BANKS)
    segment: str = pp.Field(isin=SEGMENTS)
    country: str = pp.Field(isin=COUNTRIES)
    note: str | None = pp.Field(min_length=3, max_length=40)


def customers(rows: int, seed: int = 3) -> pl.DataFrame:
    """Seeded customers, about one row in a hundred failing some rule."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows)
    repeats = rng.random(rows) < 0.002
    ids[repeats] = rng.integers(0, rows, int(repeats.sum()))

    def rare(rate: float) -> np.ndarray:
        return rng.random(rows) < rate

    names: list[str | None] = [f"Customer {i:07d} Wanjiru-Otieno" for i in range(rows)]
    for i in np.flatnonzero(rare(0.001)):
        names[i] = None
    for i in np.flatnonzero(rare(0.01)):
        names[i] = f"Ñyambura Ødegård {i}"
    emails = [f"customer.{i:07d}@example-mail.co.ke" for i in range(rows)]
    for i in np.flatnonzero(rare(0.003)):
        emails[i] = f"{'very.long.address.' * 3}{i}@example-mail.co.ke"
    bank = np.array(BANKS + ["Bank of Nowhere Limited"], dtype=object)[
        rng.choice(len(BANKS) + 1, rows, p=[0.166] * 6 + [0.004])
    ]
    segment = np.array([*SEGMENTS, "UNKNOWN"], dtype=object)[
        rng.choice(5, rows, p=[0.6, 0.25, 0.1, 0.045, 0.005])
    ]
    country = np.array([*COUNTRIES, "XX"], dtype=object)[
        rng.choice(5, rows, p=[0.7, 0.12, 0.1, 0.077, 0.003])
    ]
    notes: list[str | None] = [None] * rows
    for i in np.flatnonzero(rare(0.3)):
        notes[i] = f"called back on day {i % 28 + 1}, résolu"
    for i in np.flatnonzero(rare(0.002)):
        notes[i] = "a note much longer than forty characters, written at length"
    for i in np.flatnonzero(rare(0.001)):
        notes[i] = "ok"
    for i in np.flatnonzero(rare(0.001)):
        notes[i] = ""  # the empty text: a null
    return pl.DataFrame(
        {
            "customer_id": [f"CU{i:010d}" for i in ids],
            "name": pl.Series(names, dtype=pl.String),
            "email": emails,
            "bank": bank.tolist(),
            "segment": segment.tolist(),
            "country": country.tolist(),
            "note": pl.Series(notes, dtype=pl.String),
        }
    )


def failure_masks() -> dict[str, pl.Expr]:
    """Each rule's failing rows, named as pyrustpipe names the rule (a null, and the empty text,
    which reads as one, fail only `not_null`). A Categorical's `is_in` is asked directly: polars
    then tests its categories, not every row's text (cast to `pl.String` first, 70x slower)."""
    c = pl.col
    return {
        "customer_id:pattern": ~c("customer_id").str.contains(r"^CU[0-9]{10}$"),
        "customer_id:unique": pl.len().over("customer_id") > 1,
        "name:not_null": c("name").is_null(),
        "email:max_length": c("email").str.len_chars() > 64,
        "bank:isin": ~c("bank").is_in(BANKS),
        "segment:isin": ~c("segment").is_in(SEGMENTS),
        "country:isin": ~c("country").is_in(COUNTRIES),
        "note:min_length": (c("note").str.len_chars() < 3) & (c("note") != ""),
        "note:max_length": c("note").str.len_chars() > 40,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    strings = customers(args.rows)
    categorical = strings.with_columns(
        pl.col("bank").cast(pl.Categorical), pl.col("segment").cast(pl.Categorical)
    )
    masks = failure_masks()
    cases = {
        "customers, pl.String": (
            lambda: our_counts(pp.validate(strings, Customers)),
            lambda: mask_counts(strings.lazy(), masks),
        ),
        "customers, bank and segment pl.Categorical": (
            lambda: our_counts(pp.validate(categorical, Customers)),
            lambda: mask_counts(categorical.lazy(), masks),
        ),
    }
    run_cases(
        f"String columns: {args.rows:,} customers",
        f"python bench/string_shapes.py --rows {args.rows} --repeat {args.repeat}",
        cases,
        args.repeat,
    )


if __name__ == "__main__":
    main()
