#!/usr/bin/env python3
"""Builds given_names.toml: given names by country, sex and birth cohort (as age in 2025).

    python3 build.py SSA_DIR EWBABYNAMES.rda RANKINGS.csv OUT_DIR [EXTRACT_DIR]

SSA_DIR holds the US Social Security Administration national files yobYYYY.txt; EWBABYNAMES.rda
and RANKINGS.csv are the Office for National Statistics (England and Wales) baby-name counts and
historic top-100 rankings as packaged by the `ukbabynames` R package (README.md). Other countries
come from carried_over.toml (no cohort). Standard library only.
"""
import csv
import os
import sys
import tomllib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import countries as C  # noqa: E402
import rdata  # noqa: E402

REF_YEAR = 2025
# Age bands in 2025 and the birth years they cover.
BANDS = [("0-10", 2015, 2025), ("11-20", 2005, 2014), ("21-30", 1995, 2004), ("31-40", 1985, 1994),
         ("41-50", 1975, 1984), ("51-60", 1965, 1974), ("61-70", 1955, 1964), ("71-80", 1945, 1954),
         ("81-90", 1935, 1944), ("91+", 1900, 1934)]
TOP = 200
SEXES = (("F", "female"), ("M", "male"))
EXTRACT_NAMES = {("United States", "female", "21-30"): ["Emily", "Hannah", "Madison"],
                 ("United Kingdom", "male", "11-20"): ["Jack", "Oliver", "Thomas"]}


def ssa_counts(ssa_dir):
    """{(sex, band): {name: births}} from the SSA national files."""
    out = {}
    for band, lo, hi in BANDS:
        for year in range(lo, hi + 1):
            path = os.path.join(ssa_dir, "yob%d.txt" % year)
            if not os.path.exists(path):
                continue
            for name, sex, n in csv.reader(open(path, encoding="utf-8")):
                d = out.setdefault((sex, band), {})
                d[name] = d.get(name, 0) + int(n)
    return out


def ew_counts(ew_rda, rankings):
    """{(sex, band): {name: weight}} for England and Wales: ONS counts 1996-2020 where they exist,
    else the historic top-100 rank lists weighted by the rank-frequency curve of the 1996 counts."""
    ew = rdata.load(ew_rda)["ewbabynames"]
    counts = {}
    for i in range(len(ew["year"])):
        y, s, name, n = int(ew["year"][i]), ew["sex"][i], ew["name"][i], ew["n"][i]
        counts.setdefault((s, y), {})[name] = counts.get((s, y), {}).get(name, 0) + n
    curve = {s: sorted(counts[(s, 1996)].values(), reverse=True) for s, _ in SEXES}
    ranks = {}
    for r in csv.DictReader(open(rankings, encoding="utf-8")):
        ranks.setdefault((r["sex"], int(r["year"])), []).append((int(r["rank"]), r["name"]))
    out, method = {}, {}
    for band, lo, hi in BANDS:
        for s, _ in SEXES:
            d = {}
            years = [y for y in range(lo, hi + 1) if (s, y) in counts]
            if years:
                for y in years:
                    for name, n in counts[(s, y)].items():
                        d[name] = d.get(name, 0) + n
                method[band] = "ONS counts %d-%d" % (min(years), max(years))
            else:
                lists = [y for y in range(lo, hi + 1) if (s, y) in ranks]
                for y in lists:
                    for rank, name in ranks[(s, y)]:
                        d[name] = d.get(name, 0) + curve[s][rank - 1]
                method[band] = "ONS top-100 of %s, weights from the 1996 rank-frequency curve" % (
                    ", ".join(str(y) for y in lists))
            out[(s, band)] = d
    return out, method


def top(d, n=TOP):
    return sorted(d.items(), key=lambda x: (-x[1], x[0]))[:n]


def main(ssa_dir, ew_rda, rankings, out_dir, extract_dir=None):
    us = ssa_counts(ssa_dir)
    ew, ew_method = ew_counts(ew_rda, rankings)
    carried = tomllib.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "carried_over.toml"), "rb"))
    names_known = {"United States", "United Kingdom"} | set(carried)
    missing = [n for _, _, n in C.COUNTRIES if n not in names_known]

    comment = """Given names by country, sex and birth cohort. The age key is the age in %d: "21-30" holds the
names given to babies born 1995-2004. Weights are counts (unit = "count").

- United States: US Social Security Administration, national baby-name files (births with a Social
  Security number, names given to 5 or more babies), summed over the cohort's birth years; the
  %d most frequent names per sex and cohort. Births, not survivors: no mortality or migration.
- United Kingdom: Office for National Statistics, baby names in England and Wales (89%% of the UK
  population): counts 1996-2020 summed over the cohort's years; older cohorts use the ONS historic
  top-100 lists (1904-1994, one list a decade), weighted by the rank-frequency curve of the 1996
  counts of the same sex. Per band: %s.
- %s: no downloadable national name statistics in this edition; the lists of the previous edition are
  kept (names in rough order of frequency, weights 100 / rank^0.8, provenance weak), one list for
  every age ("*").
- Every other country (%s) has no name list: "*" gives the placeholder "(given name not in tables)".""" % (
        REF_YEAR, TOP, "; ".join("%s %s" % (b, ew_method[b]) for b, _, _ in BANDS),
        ", ".join(sorted(carried)), ", ".join(missing))
    text = C.header("given_names/build.py", "given_names", "Given names by country, sex and birth cohort (age in 2025)",
                    "US Social Security Administration, Popular Baby Names (national data); Office for National "
                    "Statistics, Baby names in England and Wales; previous-edition lists for other countries",
                    "SSA 1900-2023; ONS 1904-2020 (ukbabynames 1.0)",
                    "https://www.ssa.gov/oact/babynames/limits.html", "US public domain; Open Government Licence v3.0",
                    REF_YEAR, "category", "count", ["country", "gender", "age"], comment)
    for country, table in (("United States", us), ("United Kingdom", ew)):
        for s, sex in SEXES:
            for band, _, _ in BANDS:
                text += "\n[weights.%s.%s.\"%s\"]\n" % (C.toml_key(country), sex, band)
                for name, w in top(table[(s, band)]):
                    text += "%s = %s\n" % (C.toml_key(name), C.fmt(w, 8))
    for country in [n for _, _, n in C.COUNTRIES if n in carried]:
        for sex in ("female", "male"):
            text += "\n[weights.%s.%s.\"*\"]\n" % (C.toml_key(country), sex)
            for name, w in carried[country][sex].items():
                text += "%s = %s\n" % (C.toml_key(name), C.fmt(w))
    text += '\n[weights."*"."*"."*"]\n"(given name not in tables)" = 1\n'
    open(os.path.join(out_dir, "given_names.toml"), "w").write(text)

    if extract_dir:
        with open(os.path.join(extract_dir, "given_names_extract.csv"), "w") as f:
            f.write("# Yearly counts from the source files for a few names: SSA yobYYYY.txt (United States) and\n")
            f.write("# ONS England and Wales counts (ukbabynames ewbabynames). The test sums them per cohort.\n")
            f.write("country,sex,band,year,name,count\n")
            ew_rows = rdata.load(ew_rda)["ewbabynames"]
            for (country, sex, band), names in EXTRACT_NAMES.items():
                lo, hi = [(l, h) for b, l, h in BANDS if b == band][0]
                s = sex[0].upper()
                for year in range(lo, hi + 1):
                    if country == "United States":
                        path = os.path.join(ssa_dir, "yob%d.txt" % year)
                        if not os.path.exists(path):
                            continue
                        for name, sx, n in csv.reader(open(path, encoding="utf-8")):
                            if sx == s and name in names:
                                f.write('"%s",%s,%s,%d,%s,%s\n' % (country, sex, band, year, name, n))
                    else:
                        for i in range(len(ew_rows["year"])):
                            if int(ew_rows["year"][i]) == year and ew_rows["sex"][i] == s and ew_rows["name"][i] in names:
                                f.write('"%s",%s,%s,%d,%s,%d\n' % (country, sex, band, year, ew_rows["name"][i],
                                                                 int(ew_rows["n"][i])))


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    main(*sys.argv[1:])
