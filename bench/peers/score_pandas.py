"""The scoring benchmark's peer: the same pipeline as bench/scoring.ts, in pandas and numpy.

Reads a float64 little-endian cube [years][entities][indicators] (NaN = missing) written by the
benchmark, builds the long-to-wide pandas frame a data scientist would start from (untimed), then
times: latest value within a 3-year look-back per entity; min-max to 0-10 per year and indicator
(inverted for the higher-is-better indicators); arithmetic mean per pillar (missing children
dropped); geometric mean of the pillars (floor 0.01); rank per year (1 = highest). Writes the
scores [years][entities] to OUT and prints the seconds as JSON.

Run with Debian's /usr/bin/python3 (python3-pandas).
"""
import json
import sys
import time

import numpy as np
import pandas as pd


def main() -> None:
    cube_path, out_path, years, entities, indicators, pillars, better_from = sys.argv[1:8]
    years, entities, indicators, pillars, better_from = map(int, (years, entities, indicators, pillars, better_from))
    cube = np.fromfile(cube_path, dtype="<f8").reshape(years, entities, indicators)
    index = pd.MultiIndex.from_product([range(entities), range(years)], names=["entity", "year"])
    # Rows sorted by entity then year, as a panel is: the look-back fills forward within an entity.
    frame = pd.DataFrame(cube.transpose(1, 0, 2).reshape(entities * years, indicators), index=index)

    started = time.perf_counter()
    filled = frame.groupby(level="entity").ffill(limit=3)
    by_year = filled.groupby(level="year")
    low, high = by_year.transform("min"), by_year.transform("max")
    span = (high - low).replace(0, np.nan)
    unit = (filled - low) / span
    unit = unit.where(span.notna(), 0.5)  # no spread: the middle of the range, as minmax in normalise.ts
    unit = unit.where(filled.notna())
    unit.iloc[:, better_from:] = 1 - unit.iloc[:, better_from:]
    normalised = unit * 10
    size = indicators // pillars
    pillar_scores = pd.concat(
        [normalised.iloc[:, p * size:(p + 1) * size].mean(axis=1, skipna=True) for p in range(pillars)], axis=1
    )
    logs = np.log(pillar_scores.clip(lower=0.01))
    present = pillar_scores.notna().sum(axis=1)
    score = np.exp(logs.sum(axis=1, skipna=True) / present.where(present > 0))
    rank = score.groupby(level="year").rank(ascending=False, method="average")
    seconds = time.perf_counter() - started

    out = score.to_numpy().reshape(entities, years).T.astype("<f8")
    out.tofile(out_path)
    print(json.dumps({"seconds": seconds, "ranked": int(rank.notna().sum())}))


if __name__ == "__main__":
    main()
