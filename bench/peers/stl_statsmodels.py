"""The STL benchmark's peer: statsmodels' robust STL plus a MAD z-score of the remainder.

Reads SERIES x MONTHS float64 little-endian values (row-major) written by bench/anomaly-stl.ts,
then times, for every series: STL(y, period=12, robust=True).fit() (statsmodels' defaults:
seasonal=7, trend 23, low-pass 13, 2 inner and 15 robustness passes), and the robust z
(r - median r) / (1.4826 MAD) of the remainder with |z| >= 3.5 counted as flags: the same work
as the ThreatLens side. Writes the remainders (float64, same layout) to OUT and prints JSON with
the wall-clock and CPU seconds and the number of flags.

Run with Debian's /usr/bin/python3 (python3-statsmodels).
"""
import json
import sys
import time

import numpy as np
from statsmodels.tsa.seasonal import STL


def main() -> None:
    data_path, out_path, series, months = sys.argv[1:5]
    series, months = int(series), int(months)
    data = np.fromfile(data_path, dtype="<f8").reshape(series, months)
    remainders = np.empty_like(data)
    flags = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for i in range(series):
        resid = STL(data[i], period=12, robust=True).fit().resid
        med = np.median(resid)
        mad = 1.482602218505602 * np.median(np.abs(resid - med))
        flags += int(np.count_nonzero(np.abs(resid - med) >= 3.5 * mad))
        remainders[i] = resid
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    remainders.astype("<f8").tofile(out_path)
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "flags": flags, "series": series}))


if __name__ == "__main__":
    main()
