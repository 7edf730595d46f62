#!/usr/bin/env python3
"""Builds settlement.toml (settlement size class by country and occupation class) and cities.toml
(a named place by country and settlement class) from UN World Urbanization Prospects 2018.

    python3 build.py WUP2018-F02.csv WUP2018-F22.csv POPAGE5DT.rda TABLES_DIR

TABLES_DIR must already hold occupations.toml, age_by_sex.toml and sex_ratio.toml (the share of
agricultural workers in each country is taken from them, so the settlement table matches what the
engine draws). Standard library only; the model is in README.md and in the table's header.
"""
import csv
import io
import os
import sys
import tomllib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import countries as C  # noqa: E402
import rdata  # noqa: E402

RURAL = "rural area"
TOWN = "town under 300,000"
CLASSES = [  # (label, lower bound in thousands, upper bound)
    ("city of 10 million or more", 10000, float("inf")),
    ("city of 5 to 10 million", 5000, 10000),
    ("city of 1 to 5 million", 1000, 5000),
    ("city of 300,000 to 1 million", 300, 1000),
]
SETTLEMENTS = [RURAL, TOWN] + [c[0] for c in reversed(CLASSES)]
AGRI = "Agricultural, forestry and fishery workers"


def read_f02(path):
    """Proportion urban (%), 2020, by M49 country code. The file is the WUP F02 sheet saved as CSV
    (semicolons and decimal commas in the copy named in README.md; commas and decimal points also
    accepted)."""
    text = open(path, encoding="utf-8-sig").read()
    delim = ";" if text.count(";") > text.count(",") else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    head = [" ".join(h.split()) for h in rows[0]]
    code_col, y_col = head.index("Country code"), head.index("2020")
    out = {}
    for r in rows[1:]:
        if len(r) > y_col and r[code_col].strip():
            out[int(r[code_col])] = float(r[y_col].strip().replace(",", ".")) / 100.0
    return out


def read_f22(path, repairs):
    """Urban agglomerations of 300,000+ with their 2020 population (thousands), by M49 code, with
    damaged names of stdlib countries repaired (name_repairs.csv)."""
    out = {}
    for r in csv.DictReader(open(path, encoding="utf-8-sig")):
        pop = float(r["2020"].replace(" ", "").replace("\u00a0", ""))
        name = " ".join(r["Urban Agglomeration"].split())
        m = int(r["Country Code"])
        if "xxx" in name and m in C.BY_M49:
            if name not in repairs:
                sys.exit("damaged agglomeration name %r (M49 %d) is not in name_repairs.csv" % (name, m))
            name = repairs[name]
        out.setdefault(m, []).append((name, pop))
    return out


def read_repairs(path):
    lines = [l for l in open(path, encoding="utf-8") if not l.startswith("#")]
    return {r["damaged"]: r["name"] for r in csv.DictReader(lines)}


def population_2020(path):
    d = rdata.load(path)["popAge5dt"]
    out = {}
    for i, y in enumerate(d["year"]):
        if int(y) == 2020:
            m = int(d["country_code"][i])
            out[m] = out.get(m, 0.0) + d["popF"][i] + d["popM"][i]
    return out


def agricultural_share(tables, name):
    """Share of all persons of the country drawn as agricultural workers by occupations.toml."""
    occ = tables["occupations"]["weights"][name]
    ages = tables["age_by_sex"]["weights"][name]
    sex = tables["sex_ratio"]["weights"][name]
    total = 0.0
    for s in ("female", "male"):
        for band, dist in occ[s].items():
            lo, hi = (65, 200) if band == "65+" else map(int, band.split("-"))
            w = sum(v for a, v in ages[s].items() if lo <= int(a.rstrip("+").split("-")[0]) <= hi)
            total += sex[s] * w * dist.get(AGRI, 0.0)
    return total


def main(f02, f22, popage5, tables_dir):
    urban = read_f02(f02)
    cities = read_f22(f22, read_repairs(os.path.join(os.path.dirname(os.path.abspath(__file__)), "name_repairs.csv")))
    pop = population_2020(popage5)
    tables = {n: tomllib.load(open(os.path.join(tables_dir, n + ".toml"), "rb"))
              for n in ("occupations", "age_by_sex", "sex_ratio")}

    comment = """Settlement size class by country and occupation class (agricultural / other).

Population shares per country (UN World Urbanization Prospects 2018, 2020 figures): rural = 1 - the
proportion urban (F02); each city class = the 2020 populations of the urban agglomerations of
300,000 or more in that size class (F22) over the national population (UN WPP 2024, 2020);
"town under 300,000" = the rest of the urban population. Agricultural workers live only in rural
areas and towns under 300,000, split in proportion to those two populations; the shares of all
other persons are solved so that every class keeps its national share:
    P(k | other) = (s_k - a * P(k | agricultural)) / (1 - a)
where a is the share of all persons drawn as agricultural workers by stdlib.occupations (listed
below). The national urban share is therefore kept for a population drawn with stdlib.age_by_sex,
stdlib.occupations and this table; a recipe restricted to adults sees a slightly different mix.
No agricultural worker is placed in a city of 300,000 or more.

Per country: urban share 2020, share in cities of 1 million or more, agricultural share a:
"""
    settle_rows, city_rows = [], []
    for m, iso, name in C.COUNTRIES:
        u = urban[m]
        n = pop[m]
        shares = {RURAL: 1.0 - u}
        listed = cities.get(m, [])
        for label, lo, hi in CLASSES:
            shares[label] = sum(p for _, p in listed if lo <= p < hi) / n
        in_cities = sum(shares[c[0]] for c in CLASSES)
        note = ""
        if in_cities > u:  # agglomeration populations exceed the national urban count
            scale = u / in_cities
            for c in CLASSES:
                shares[c[0]] *= scale
            in_cities = u
            note = " (city populations scaled to the urban share)"
        shares[TOWN] = u - in_cities
        a = agricultural_share(tables, name)
        r, t = shares[RURAL], shares[TOWN]
        agri = {k: 0.0 for k in SETTLEMENTS}
        agri[RURAL], agri[TOWN] = r / (r + t), t / (r + t)
        other = {k: max(0.0, (shares[k] - a * agri[k]) / (1.0 - a)) for k in SETTLEMENTS}
        big = sum(shares[c[0]] for c in CLASSES[:3])
        comment += "  %s: urban %.1f%%, cities of 1 million+ %.1f%%, agricultural %.1f%%%s\n" % (
            name, 100 * u, 100 * big, 100 * a, note)
        settle_rows.append((name, agri, other))
        for label, lo, hi in CLASSES:
            places = [(c, p) for c, p in listed if lo <= p < hi]
            if places:
                city_rows.append((name, label, places))
        city_rows.append((name, TOWN, [("small town or city", 1.0)]))
        city_rows.append((name, RURAL, [("rural area", 1.0)]))

    text = C.header("settlement/build.py", "settlement",
                    "Settlement size class by country and occupation class (rural area, towns, cities by size)",
                    "UN DESA Population Division, World Urbanization Prospects: proportion urban (F02) and urban "
                    "agglomerations of 300,000 inhabitants or more (F22); UN WPP 2024 population",
                    "2018 revision, 2020 figures", "https://population.un.org/wup/", "CC BY 3.0 IGO", 2020,
                    "category", "share", ["country", "occupation_class"], comment)
    for name, agri, other in settle_rows:
        for cls, dist in (("agricultural", agri), ("other", other)):
            text += "\n[weights.%s.%s]\n" % (C.toml_key(name), cls)
            for k, w in C.shares([(k, dist[k]) for k in SETTLEMENTS if dist[k] > 0]):
                text += "%s = %s\n" % (C.toml_key(k), C.fmt(w))
    open(os.path.join(tables_dir, "settlement.toml"), "w").write(text)

    comment = """A place of residence by country and settlement class (the classes of stdlib.settlement). City
classes list the urban agglomerations of that size (UN World Urbanization Prospects 2018, F22),
weighted by their 2020 population in thousands; "town under 300,000" and "rural area" name no
place ("small town or city", "rural area")."""
    text = C.header("settlement/build.py", "cities", "Place of residence by country and settlement class",
                    "UN DESA Population Division, World Urbanization Prospects: urban agglomerations of 300,000 "
                    "inhabitants or more (F22)", "2018 revision, 2020 figures", "https://population.un.org/wup/",
                    "CC BY 3.0 IGO", 2020, "category", "count", ["country", "settlement"], comment)
    for name, cls, places in city_rows:
        text += "\n[weights.%s.%s]\n" % (C.toml_key(name), C.toml_key(cls))
        merged = {}
        for c, p in places:
            merged[c] = merged.get(c, 0.0) + p
        for c, p in sorted(merged.items(), key=lambda x: -x[1]):
            text += "%s = %s\n" % (C.toml_key(c), C.fmt(p))
    open(os.path.join(tables_dir, "cities.toml"), "w").write(text)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
