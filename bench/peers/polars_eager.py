"""Peer: polars eager read_csv (all strings), then the same checks as polars_streaming."""

import polars as pl
from _common import csv_path, emit
from polars_streaming import counts


def main() -> None:
    frame = pl.read_csv(csv_path(), infer_schema=False)
    result = counts(frame.lazy()).collect().row(0, named=True)
    emit(result.pop("rows"), result.pop("invalid_rows"), result)


if __name__ == "__main__":
    main()
