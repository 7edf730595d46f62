#!/usr/bin/env python3
"""Builds religion.toml (religious identification by country, Pew Research Center 2010 estimates)
from pew_grl_2010_extract.csv, the rows of Pew's "Religious Composition by Country, in Numbers"
(The Global Religious Landscape, 2012) for the 45 stdlib countries (see README.md).

    python3 build.py ../..

Standard library only; reads nothing but the extract beside this script.
"""
import csv
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import countries as C  # noqa: E402

SOURCE = ("Pew Research Center, The Global Religious Landscape (2012), Religious Composition by Country 2010 "
          "(sortable data table, estimated population of each group); percent of the sum of the eight groups, rounded")
EDITION = "2012 report, 2010 estimates (Pew-Templeton Global Religious Futures)"
URL = "https://www.pewresearch.org/religion/2012/12/18/global-religious-landscape-exec/"
LICENCE = "Pew Research Center terms of use: reuse with attribution"
EXTRACT = "pew_grl_2010_extract.csv"
# (column of the extract, label of the `religion` fact in stdlib/taxonomy/core/facts.rules)
GROUPS = [("christians", "christianity"), ("muslims", "islam"), ("unaffiliated", "unaffiliated"),
          ("hindus", "hinduism"), ("buddhists", "buddhism"), ("folk_religions", "folk_religion"),
          ("other_religions", "other_religion"), ("jews", "judaism")]


def count(cell):
    """A population count of the extract; "<10000" (Pew's "< 10,000") counts as 0."""
    return 0 if cell.startswith("<") else int(cell)


def percents(counts):
    """Each group's percent of the eight groups' sum, rounded to 0.1; below 0.1 (Pew's "< 0.1") 0.05.
    tests/tables/sources_test.cpp recomputes these with the same arithmetic."""
    total = sum(counts)
    out = []
    for c in counts:
        q = 100.0 * c / total
        out.append(0.05 if q < 0.1 else math.floor(q * 10.0 + 0.5) / 10.0)
    return out


def read_extract(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(line for line in f if not line.startswith("#")):
            rows[r["country"]] = [count(r[col]) for col, _ in GROUPS]
    missing = [name for _, _, name in C.COUNTRIES if name not in rows] + ([] if "*" in rows else ["*"])
    if missing:
        sys.exit("%s: no row for %s" % (path, ", ".join(missing)))
    return rows


def main(out_dir):
    rows = read_extract(os.path.join(HERE, EXTRACT))
    table = {k: percents(v) for k, v in rows.items()}
    sums = [sum(p) for p in table.values()]
    tolerance = math.ceil(max(abs(s - 100.0) for s in sums) * 10.0 + 1e-9) / 1000.0
    comment = """Religious composition by country: the share of the population identifying with each of eight
groups, as published by the Pew Research Center for 2010 ("The Global Religious Landscape",
December 2012, and its table "Religious Composition by Country, 2010"; Pew-Templeton Global
Religious Futures project), in percent, rounded to 0.1: each group's estimated population (Pew's
sortable table in numbers, rounded to 10,000) over the sum of the eight groups. Shares below 0.1
(what Pew prints as "< 0.1") are 0.05. "*" is the sum of Pew's table (the world). Country names
follow stdlib.countries; labels are the lower-case singular forms used by the `religion` fact of
stdlib.core (stdlib/taxonomy/core/facts.rules). Pew's data may be reused with attribution."""
    text = C.header("religion/build.py", "religion",
                    "Religious identification by country (Christian, Muslim, Hindu, Buddhist, folk religion, "
                    "Jewish, other, unaffiliated), percent",
                    SOURCE, EDITION, URL, LICENCE, 2010, "category", "percent", ["country"], comment)
    text = text.replace('unit        = "percent"\n',
                        'unit        = "percent"\ntolerance   = %g   # the rounded shares of a country sum to %.1f-%.1f\n'
                        % (tolerance, min(sums), max(sums)))
    for name in ["*"] + [name for _, _, name in C.COUNTRIES]:
        text += '\n[weights.%s]\n' % ('"%s"' % name)
        for (_, label), p in zip(GROUPS, table[name]):
            text += '"%s" = %s\n' % (label, "0.05" if p == 0.05 else "%.1f" % p)
    with open(os.path.join(out_dir, "religion.toml"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
