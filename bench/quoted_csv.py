"""A CSV whose text fields are quoted, as exports of names and addresses are, checked by
pyrustpipe and by the same rules as a polars streaming scan, in one process.

    python bench/quoted_csv.py --rows 1000000 [--repeat 5]

The transactions benchmark's CSV has no quotes, so every record takes the parser's quote-free
path. Real exports quote any field holding a delimiter: here a third of the names (`"Acme,
Inc."`), every address (`"12 Main St, Apt 4"`), and a note in seven with `""` escapes, one in
ninety-seven spanning two lines. A few rows fail each rule: long names and notes, amounts out of
range, unknown cities, repeated ids. Both sides read the file from disk (the page cache, after
the first run); the sides run in alternating pairs, the ratio is the median of the pairs'
ratios. Every rule's count must agree.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import polars as pl
import pyrustpipe as pp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from typed_path import mask_counts, our_counts, run_cases  # noqa: E402

COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka"]
CITIES = ["Nairobi", "Lagos", "Accra"]


class Contacts(pp.Schema):
    id: int = pp.Field(unique=True)
    name: str = pp.Field(max_length=20)
    address: str = pp.Field(max_length=30)
    note: str | None = pp.Field(max_length=24)
    amount: float = pp.Field(ge=0, le=4990)
    city: str = pp.Field(isin=CITIES)


def write_contacts(path: Path, rows: int, seed: int = 3) -> None:
    """Seeded contacts, about one row in a hundred failing some rule."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("id,name,address,note,amount,city\n")
        for i in range(rows):
            key = rng.randrange(i) if i and rng.random() < 0.002 else i
            company = rng.choice(COMPANIES)
            name = f'"{company}, Inc."' if i % 3 == 0 else company
            if rng.random() < 0.002:
                name = f'"{company} Holdings, International"'
            address = f'"{rng.randint(1, 999)} Main St, Apt {rng.randint(1, 99)}"'
            note = "" if i % 11 == 0 else "ok"
            if i % 7 == 0:
                note = '"said ""hello"", left"'
            if i % 97 == 0:
                note = '"called back,\nno answer"'
            if rng.random() < 0.002:
                note = '"a note longer than the twenty-four characters allowed"'
            city = "Kampala" if rng.random() < 0.003 else rng.choice(CITIES)
            amount = rng.uniform(0, 5000)
            out.write(f"{key},{name},{address},{note},{amount:.2f},{city}\n")


def polars_counts(path: Path) -> dict[str, int]:
    """rows, invalid_rows and each rule's count of failing rows, each mask evaluated once."""
    c = pl.col
    amount = c("amount").cast(pl.Float64, strict=False)
    masks = {
        "id:unique": c("id").is_not_null() & (pl.len().over("id") > 1),
        "name:max_length": c("name").str.len_chars() > 20,
        "address:max_length": c("address").str.len_chars() > 30,
        "note:max_length": c("note").str.len_chars() > 24,
        "amount:ge": amount < 0,
        "amount:le": amount > 4990,
        "city:isin": ~c("city").is_in(CITIES),
    }
    masks = {name: mask.fill_null(False) for name, mask in masks.items()}
    return mask_counts(pl.scan_csv(path, infer_schema=False), masks, streaming=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    path = BENCH / "data" / f"contacts_{args.rows}_seed3.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        write_contacts(partial, args.rows)
        partial.replace(path)
    cases = {
        "contacts CSV, quoted names, addresses and notes": (
            lambda: our_counts(pp.validate(path, Contacts)),
            lambda: polars_counts(path),
        ),
    }
    run_cases(
        f"A CSV with quoted fields: {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB)",
        f"python bench/quoted_csv.py --rows {args.rows} --repeat {args.repeat}",
        cases,
        args.repeat,
    )


if __name__ == "__main__":
    main()
