"""Public CSVs this project did not write — vega_datasets' US airports and Seattle weather —
checked by pyrustpipe and by the same rules as a polars streaming scan, in one process.

    python bench/public_csv.py --copies 300 [--repeat 7]

`airports.csv` (3,376 rows: codes, names, cities, states, countries, and two coordinates with
eight decimals each) is written `--copies` times under one header (300 copies: 1,012,800 rows,
63 MB); `seattle-weather.csv` (1,461 days: a date, four short measurements, a weather word)
`--copies` × 7/3 times (1,022,700 rows at 300). Airports is float-heavy where the transactions
benchmark is text-heavy, and its names hold quoted commas; its rules fail some rows of every
copy: four-letter codes, long names and cities, four countries, the airports outside a box
around the contiguous states. Seattle's `weather` list leaves out `fog`, as a list written
before the data was seen does: 28% of its rows fail, the case where a gate's cost per failing
row shows. Both sides read the file from disk (the page cache, after the first run); polars
reads the numbers as `Float64` and the date by its format in its scan, as an expert would. The
sides run in alternating pairs, the ratio is the median of the pairs' ratios, and every rule's
count must agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pyrustpipe as pp
import vega_datasets

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from typed_path import mask_counts, our_counts, run_cases  # noqa: E402

DATA = Path(vega_datasets.__file__).parent / "_data"
WEATHER = ["drizzle", "rain", "sun", "snow"]
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


class Weather(pp.Schema):
    date: dt.date = pp.Field(format="%Y/%m/%d")
    precipitation: float = pp.Field(ge=0, le=50)
    temp_max: float = pp.Field(ge=-5, le=35)
    temp_min: float = pp.Field(ge=-5, le=20)
    wind: float = pp.Field(ge=0, le=8)
    weather: str = pp.Field(isin=WEATHER)


def write_copies(source: Path, path: Path, copies: int) -> None:
    """`source` `copies` times under its one header."""
    header, _, body = source.read_text(encoding="utf-8").partition("\n")
    if not body.endswith("\n"):
        body += "\n"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header + "\n")
        for _ in range(copies):
            out.write(body)


def airports_polars(path: Path) -> dict[str, int]:
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
    schema = {name: pl.String for name in ("iata", "name", "city", "state", "country")}
    schema |= {"latitude": pl.Float64, "longitude": pl.Float64}
    return scan_counts(pl.scan_csv(path, schema=schema), masks)


def weather_polars(path: Path) -> dict[str, int]:
    """The same counts for `Weather`: the date parsed by its format in the scan's plan."""
    c = pl.col
    masks = {
        "date:type": c("date").is_null(),
        "precipitation:ge": c("precipitation") < 0,
        "precipitation:le": c("precipitation") > 50,
        "temp_max:ge": c("temp_max") < -5,
        "temp_max:le": c("temp_max") > 35,
        "temp_min:ge": c("temp_min") < -5,
        "temp_min:le": c("temp_min") > 20,
        "wind:ge": c("wind") < 0,
        "wind:le": c("wind") > 8,
        "weather:isin": ~c("weather").is_in(WEATHER),
    }
    schema = {"date": pl.String, "weather": pl.String}
    schema |= {name: pl.Float64 for name in ("precipitation", "temp_max", "temp_min", "wind")}
    frame = pl.scan_csv(path, schema=schema).with_columns(
        c("date").str.to_date("%Y/%m/%d", strict=False)
    )
    return scan_counts(frame, masks)


def scan_counts(frame: pl.LazyFrame, masks: dict[str, pl.Expr]) -> dict[str, int]:
    """`mask_counts` of a file's streaming scan, a null mask counted false."""
    masks = {name: mask.fill_null(False) for name, mask in masks.items()}
    return mask_counts(frame, masks, streaming=True)


def copies_of(name: str, copies: int) -> Path:
    """vega_datasets' `name` written `copies` times (once, then cached in bench/data)."""
    path = BENCH / "data" / f"{Path(name).stem}_x{copies}.csv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        write_copies(DATA / name, partial, copies)
        partial.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    airports = copies_of("airports.csv", args.copies)
    weather = copies_of("seattle-weather.csv", args.copies * 7 // 3)
    cases = {
        "vega_datasets airports, two float coordinates a row": (
            lambda: our_counts(pp.validate(airports, Airports)),
            lambda: airports_polars(airports),
        ),
        "vega_datasets Seattle weather, 28% of rows failing": (
            lambda: our_counts(pp.validate(weather, Weather)),
            lambda: weather_polars(weather),
        ),
    }
    run_cases(
        f"Public CSVs: airports.csv ({airports.stat().st_size / 1e6:.0f} MB) and "
        f"seattle-weather.csv ({weather.stat().st_size / 1e6:.0f} MB), copied",
        f"python bench/public_csv.py --copies {args.copies} --repeat {args.repeat}",
        cases,
        args.repeat,
    )


if __name__ == "__main__":
    main()
