"""A public CSV this project did not write — vega_datasets' US airports — checked by pyrustpipe
and by the same rules as a polars streaming scan, in one process.

    python bench/airports_csv.py --copies 300 [--repeat 7]

`airports.csv` (3,376 rows: codes, names, cities, states, countries, and two coordinates with
eight decimals each) is written `--copies` times under one header (300 copies: 1,012,800 rows,
63 MB). Its coordinates make it float-heavy where the transactions benchmark is text-heavy, and
its names hold quoted commas. The rules fail some rows of every copy: four-letter codes, long
names and cities, four countries, the airports outside a box around the contiguous states.
Both sides read the file from disk (the page cache, after the first run); polars reads the
coordinates as `Float64` in its scan, as an expert would. The sides run in alternating pairs,
the ratio is the median of the pairs' ratios, and every rule's count must agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
import pyrustpipe as pp
import vega_datasets

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from typed_path import our_counts, run_cases  # noqa: E402

SOURCE = Path(vega_datasets.__file__).parent / "_data" / "airports.csv"
CODE = r"^[0-9A-Z]{3}$"
STATE = r"^[A-Z]{2}$"


class Airports(pp.Schema):
    iata: str = pp.Field(pattern=CODE)
    name: str = pp.Field(max_length=30)
    city: str = pp.Field(max_length=20)
    state: str = pp.Field(pattern=STATE)
    country: str = pp.Field(isin=["USA"])
    latitude: float = pp.Field(ge=24, le=50)
    longitude: float = pp.Field(ge=-125, le=-66)


def write_copies(path: Path, copies: int) -> None:
    """`airports.csv` `copies` times under its one header."""
    header, _, body = SOURCE.read_text(encoding="utf-8").partition("\n")
    if not body.endswith("\n"):
        body += "\n"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header + "\n")
        for _ in range(copies):
            out.write(body)


def polars_counts(path: Path) -> dict[str, int]:
    """rows, invalid_rows and each rule's count of failing rows, each mask evaluated once."""
    c = pl.col
    masks = {
        "iata:pattern": ~c("iata").str.contains(CODE),
        "name:max_length": c("name").str.len_chars() > 30,
        "city:max_length": c("city").str.len_chars() > 20,
        "state:pattern": ~c("state").str.contains(STATE),
        "country:isin": ~c("country").is_in(["USA"]),
        "latitude:ge": c("latitude") < 24,
        "latitude:le": c("latitude") > 50,
        "longitude:ge": c("longitude") < -125,
        "longitude:le": c("longitude") > -66,
    }
    masks = {name: mask.fill_null(False) for name, mask in masks.items()}
    names = list(masks)
    schema = {name: pl.String for name in ("iata", "name", "city", "state", "country")}
    schema |= {"latitude": pl.Float64, "longitude": pl.Float64}
    row = (
        pl.scan_csv(path, schema=schema)
        .select(**masks)
        .select(
            pl.len().alias("rows"),
            pl.any_horizontal(names).sum().alias("invalid_rows"),
            pl.col(names).sum(),
        )
        .collect(engine="streaming")
        .row(0, named=True)
    )
    return {name: int(count) for name, count in row.items() if count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    path = BENCH / "data" / f"airports_x{args.copies}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        write_copies(partial, args.copies)
        partial.replace(path)
    cases = {
        "vega_datasets airports, two float coordinates a row": (
            lambda: our_counts(pp.validate(path, Airports)),
            lambda: polars_counts(path),
        ),
    }
    run_cases(
        f"A public float-heavy CSV: {args.copies} copies of airports.csv "
        f"({path.stat().st_size / 1e6:.0f} MB)",
        f"python bench/airports_csv.py --copies {args.copies} --repeat {args.repeat}",
        cases,
        args.repeat,
    )


if __name__ == "__main__":
    main()
