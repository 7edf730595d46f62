#!/usr/bin/env python3
"""Independent reference for tests/survey/test_metrics.cpp: computes the survey metrics with scipy
and numpy for the cases in the JSON file given as argv[1] and prints the results as JSON.

Each case: {"a": [...], "b": [...], "aw": [...]?, "bw": [...]?, "codes": [...]?}.
Output per case: ks (unweighted only), w1, js2 (JS divergence base 2 on the code shares),
ref_js (the DeepPersona reference implementation's 20-edge histogram JS distance, unweighted only).
Exits 3 when scipy is missing, so the calling test fails instead of skipping.
"""
import json
import sys
import warnings

try:
    import numpy as np
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import ks_2samp, wasserstein_distance
except ImportError as e:  # a missing dependency is a failure, never a skip
    print(f"scipy_check: {e} (install python3-scipy: bash .ci/setup)", file=sys.stderr)
    sys.exit(3)


def shares(values, weights, codes):
    out = np.zeros(len(codes))
    for v, w in zip(values, weights):
        if v in codes:
            out[codes.index(v)] += w
    return out / out.sum()


def reference_js(v1, v2):
    # As in the reference implementation's calculate_correlation.py.
    min_val = min(v1.min(), v2.min())
    max_val = max(v1.max(), v2.max())
    bins = np.linspace(min_val, max_val, 20)
    h1, _ = np.histogram(v1, bins=bins, density=True)
    h2, _ = np.histogram(v2, bins=bins, density=True)
    h1 = np.clip(h1, 1e-10, None)
    h2 = np.clip(h2, 1e-10, None)
    h1 = h1 / h1.sum()
    h2 = h2 / h2.sum()
    d = float(jensenshannon(h1, h2))
    return None if np.isnan(d) else d  # one-point samples: numpy's zero-width bins give NaN


def main():
    warnings.simplefilter("ignore", RuntimeWarning)  # the zero-width bins above
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    out = []
    for c in cases:
        a = np.array(c["a"], dtype=float)
        b = np.array(c["b"], dtype=float)
        aw = c.get("aw")
        bw = c.get("bw")
        r = {}
        if aw is None and bw is None:
            r["ks"] = float(ks_2samp(a, b).statistic)
            r["ref_js"] = reference_js(a, b)
        r["w1"] = float(wasserstein_distance(a, b, aw, bw))
        if "codes" in c:
            codes = [float(x) for x in c["codes"]]
            p = shares(a, aw if aw is not None else [1.0] * len(a), codes)
            q = shares(b, bw if bw is not None else [1.0] * len(b), codes)
            r["js2"] = float(jensenshannon(p, q, base=2)) ** 2
        out.append(r)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
