"""Numeric typed data: a month of taxi trips shaped as the NYC TLC yellow-trip files (19 columns:
integer codes, timestamps, amounts) checked by pyrustpipe and by the same rules as polars
expressions, in one process.

    python bench/trips_path.py --rows 3000000 [--repeat 5]

The transactions benchmark is text-heavy (ids, phones, codes); real typed files are mostly numbers
and instants, checked by ranges, code lists and row rules across columns. The trips are
generated (seeded) with the public files' types and value ranges, a few rows out of range, some
nulls where the real files have them, drop-offs before pick-ups and totals short of their parts.
Three sources, each side starting from the same one: the frame in memory, the Parquet file as
polars writes it (zstd, a row group every 125K rows) and as pyarrow writes it (one row group of
up to 1Mi rows). The sides run in alternating pairs; the ratio is the median of the pairs'
ratios. Every rule's count must agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pyrustpipe as pp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from typed_path import mask_counts, our_counts, run_cases  # noqa: E402

MONTH = (dt.datetime(2024, 1, 1), dt.datetime(2024, 2, 1))
VENDORS = [1, 2, 6, 7]
RATE_CODES = [1, 2, 3, 4, 5, 6, 99]
PAYMENT_TYPES = [0, 1, 2, 3, 4, 5, 6]


class Trips(pp.Schema):
    VendorID: int = pp.Field(isin=VENDORS)
    tpep_pickup_datetime: dt.datetime = pp.Field(ge=MONTH[0], lt=MONTH[1])
    tpep_dropoff_datetime: dt.datetime = pp.Field()
    passenger_count: int | None = pp.Field(ge=0, le=9)
    trip_distance: float = pp.Field(ge=0, le=500)
    RatecodeID: int | None = pp.Field(isin=RATE_CODES)
    store_and_fwd_flag: str | None = pp.Field(isin=["Y", "N"])
    PULocationID: int = pp.Field(ge=1, le=265)
    DOLocationID: int = pp.Field(ge=1, le=265)
    payment_type: int = pp.Field(isin=PAYMENT_TYPES)
    fare_amount: float = pp.Field(ge=-1000, le=5000)
    extra: float = pp.Field()
    mta_tax: float = pp.Field(ge=0)
    tip_amount: float = pp.Field(ge=0)
    tolls_amount: float = pp.Field(ge=0)
    improvement_surcharge: float = pp.Field()
    total_amount: float = pp.Field(ge=-1000, le=5000)
    congestion_surcharge: float | None = pp.Field(ge=0)
    Airport_fee: float | None = pp.Field(ge=0)

    @pp.row_rule
    def dropoff_after_pickup(row):
        return row.tpep_dropoff_datetime >= row.tpep_pickup_datetime

    @pp.row_rule
    def total_covers_fare_tip_tolls(row):
        return row.total_amount + 0.01 >= row.fare_amount + row.tip_amount + row.tolls_amount


def trips(rows: int, seed: int = 7) -> pl.DataFrame:
    """A month of trips: the public files' types, ranges and null columns; a few bad rows."""
    rng = np.random.default_rng(seed)

    def sometimes_null(values: Any, rate: float = 0.05) -> pa.Array:
        return pa.array(values, mask=rng.random(rows) < rate)

    def sometimes(rate: float) -> Any:
        return rng.random(rows) < rate

    start = np.datetime64(MONTH[0], "us").astype(np.int64)
    pickup = start + rng.integers(0, 31 * 86_400 * 10**6, rows)
    pickup[sometimes(0.0002)] -= 40 * 86_400 * 10**6  # a stray trip from the month before
    dropoff = pickup + rng.integers(60, 3_600, rows) * 10**6
    dropoff[sometimes(0.001)] -= 7_200 * 10**6
    fare = np.round(rng.normal(18, 12, rows), 2)
    tip = np.round(rng.exponential(3, rows), 2)
    tolls = np.where(sometimes(0.05), 6.94, 0.0)
    extra = rng.choice([0.0, 0.5, 1.0, 2.5, 5.0], rows)
    mta_tax = rng.choice([0.5, 0.0, -0.5], rows, p=[0.97, 0.02, 0.01])
    congestion = rng.choice([0.0, 2.5], rows, p=[0.1, 0.9])
    airport = rng.choice([0.0, 1.75], rows, p=[0.9, 0.1])
    total = np.round(fare + tip + tolls + extra + mta_tax + 1.0 + congestion + airport, 2)
    total[sometimes(0.001)] -= 25.0
    table = pa.table(
        {
            "VendorID": pa.array(rng.choice([1, 2, 6, 5], rows, p=[0.3, 0.69, 0.0099, 0.0001])),
            "tpep_pickup_datetime": pa.array(pickup, pa.timestamp("us")),
            "tpep_dropoff_datetime": pa.array(dropoff, pa.timestamp("us")),
            "passenger_count": sometimes_null(rng.integers(0, 7, rows)),
            "trip_distance": pa.array(np.round(rng.exponential(3.0, rows), 2)),
            "RatecodeID": sometimes_null(
                rng.choice([1, 2, 3, 4, 5, 99], rows, p=[0.9, 0.04, 0.02, 0.02, 0.01, 0.01])
            ),
            "store_and_fwd_flag": sometimes_null(rng.choice(["N", "Y"], rows, p=[0.995, 0.005])),
            "PULocationID": pa.array(rng.integers(1, 266, rows).astype(np.int32)),
            "DOLocationID": pa.array(rng.integers(1, 267, rows).astype(np.int32)),
            "payment_type": pa.array(
                rng.choice([0, 1, 2, 3, 4], rows, p=[0.05, 0.75, 0.15, 0.03, 0.02])
            ),
            "fare_amount": pa.array(fare),
            "extra": pa.array(extra),
            "mta_tax": pa.array(mta_tax),
            "tip_amount": pa.array(tip),
            "tolls_amount": pa.array(tolls),
            "improvement_surcharge": pa.array(np.full(rows, 1.0)),
            "total_amount": pa.array(total),
            "congestion_surcharge": sometimes_null(congestion),
            "Airport_fee": sometimes_null(airport),
        }
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def failure_masks() -> dict[str, pl.Expr]:
    """Each rule's failing rows, named as pyrustpipe names the rule (a null fails only
    `not_null`; a row rule with a null operand is skipped)."""
    c = pl.col
    not_null = ["VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "trip_distance"]
    not_null += ["PULocationID", "DOLocationID", "payment_type", "fare_amount", "extra"]
    not_null += ["mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount"]
    masks = {f"{name}:not_null": c(name).is_null() for name in not_null}
    masks |= {
        "VendorID:isin": ~c("VendorID").is_in(VENDORS),
        "tpep_pickup_datetime:ge": c("tpep_pickup_datetime") < MONTH[0],
        "tpep_pickup_datetime:lt": c("tpep_pickup_datetime") >= MONTH[1],
        "passenger_count:ge": c("passenger_count") < 0,
        "passenger_count:le": c("passenger_count") > 9,
        "trip_distance:ge": c("trip_distance") < 0,
        "trip_distance:le": c("trip_distance") > 500,
        "RatecodeID:isin": ~c("RatecodeID").is_in(RATE_CODES),
        "store_and_fwd_flag:isin": ~c("store_and_fwd_flag").is_in(["Y", "N"]),
        "PULocationID:ge": c("PULocationID") < 1,
        "PULocationID:le": c("PULocationID") > 265,
        "DOLocationID:ge": c("DOLocationID") < 1,
        "DOLocationID:le": c("DOLocationID") > 265,
        "payment_type:isin": ~c("payment_type").is_in(PAYMENT_TYPES),
        "fare_amount:ge": c("fare_amount") < -1000,
        "fare_amount:le": c("fare_amount") > 5000,
        "mta_tax:ge": c("mta_tax") < 0,
        "tip_amount:ge": c("tip_amount") < 0,
        "tolls_amount:ge": c("tolls_amount") < 0,
        "total_amount:ge": c("total_amount") < -1000,
        "total_amount:le": c("total_amount") > 5000,
        "congestion_surcharge:ge": c("congestion_surcharge") < 0,
        "Airport_fee:ge": c("Airport_fee") < 0,
        "dropoff_after_pickup": c("tpep_dropoff_datetime") < c("tpep_pickup_datetime"),
        "total_covers_fare_tip_tolls": c("total_amount") + 0.01
        < c("fare_amount") + c("tip_amount") + c("tolls_amount"),
    }
    return {name: mask.fill_null(False) for name, mask in masks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    frame = trips(args.rows)
    polars_file = BENCH / "data" / f"trips_{args.rows}_polars.parquet"
    frame.write_parquet(polars_file, row_group_size=125_000)
    pyarrow_file = BENCH / "data" / f"trips_{args.rows}_pyarrow.parquet"
    pq.write_table(frame.to_arrow(), pyarrow_file)
    cases = {
        "trips polars DataFrame": (
            lambda: our_counts(pp.validate(frame, Trips)),
            lambda: mask_counts(frame.lazy(), failure_masks()),
        ),
        "trips Parquet file (polars, zstd)": (
            lambda: our_counts(pp.validate(str(polars_file), Trips)),
            lambda: mask_counts(pl.scan_parquet(polars_file), failure_masks()),
        ),
        "trips Parquet file (pyarrow, snappy, one row group)": (
            lambda: our_counts(pp.validate(str(pyarrow_file), Trips)),
            lambda: mask_counts(pl.scan_parquet(pyarrow_file), failure_masks()),
        ),
    }
    run_cases(
        f"Numeric typed sources: {args.rows:,} taxi trips",
        f"python bench/trips_path.py --rows {args.rows} --repeat {args.repeat}",
        cases,
        args.repeat,
    )


if __name__ == "__main__":
    main()
