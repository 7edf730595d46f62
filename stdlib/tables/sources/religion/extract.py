#!/usr/bin/env python3
"""Writes pew_grl_2010_extract.csv (the rows of the 45 stdlib countries and the world sum) from the
Pew "Religious Composition by Country, in Numbers" table as copied into rawData.txt (see README.md).

    python3 extract.py rawData.txt

Standard library only. Run once when the source changes; build.py reads only the extract.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import countries as C  # noqa: E402

# Pew's spelling of the stdlib countries whose names differ.
PEW_NAMES = {"Myanmar": "Burma (Myanmar)", "Republic of Korea": "South Korea", "Russian Federation": "Russia",
             "Türkiye": "Turkey", "Viet Nam": "Vietnam"}
GROUPS = ["christians", "muslims", "unaffiliated", "hindus", "buddhists", "folk_religions", "other_religions", "jews"]
OUT = "pew_grl_2010_extract.csv"


def count(cell):
    """'31,130,000' -> '31130000'; Pew's '< 10,000' -> '<10000'."""
    cell = cell.strip()
    if cell.startswith("<"):
        return "<" + cell[1:].strip().replace(",", "")
    return str(int(cell.replace(",", "")))


def main(raw):
    rows = {}
    for line in open(raw, encoding="utf-8"):
        f = line.rstrip("\n").split("\t")
        if len(f) == 1 + len(GROUPS):
            rows[f[0]] = [count(c) for c in f[1:]]
    if len(rows) != 232:
        sys.exit("expected the 232 rows of Pew's table, read %d" % len(rows))
    world = [sum(int(r[i]) for r in rows.values() if not r[i].startswith("<")) for i in range(len(GROUPS))]
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("# Pew Research Center, The Global Religious Landscape (December 2012): \"Religious Composition by\n")
        f.write("# Country, in Numbers\", estimated 2010 population of each group, rounded by Pew to 10,000.\n")
        f.write("# Rows of the 45 stdlib countries copied from the table (see README.md), thousands separators\n")
        f.write("# removed, Pew's \"< 10,000\" written <10000; \"*\" is the sum of all 232 rows (<10000 as 0).\n")
        f.write("country,pew_country," + ",".join(GROUPS) + "\n")
        f.write('"*","World (sum of the table)",' + ",".join(str(x) for x in world) + "\n")
        for _, _, name in C.COUNTRIES:
            pew = PEW_NAMES.get(name, name)
            if pew not in rows:
                sys.exit("%s (%s) is not in the table" % (name, pew))
            f.write('"%s","%s",%s\n' % (name, pew, ",".join(rows[pew])))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
