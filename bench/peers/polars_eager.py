"""Peer: polars eager read_csv (all strings), then the same vectorised checks."""

import polars as pl
from _common import csv_path, emit
from polars_streaming import failure_masks


def main() -> None:
    frame = pl.read_csv(csv_path(), infer_schema=False)
    masks = failure_masks()
    result = frame.select(
        pl.len().alias("rows"),
        pl.any_horizontal(list(masks.values())).sum().alias("invalid_rows"),
        *(mask.sum().alias(name) for name, mask in masks.items()),
    ).row(0, named=True)
    emit(result.pop("rows"), result.pop("invalid_rows"), result)


if __name__ == "__main__":
    main()
