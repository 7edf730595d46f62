#!/usr/bin/env python3
"""Builds countries.toml, sex_ratio.toml, age_structure.toml and age_by_sex.toml from UN World
Population Prospects 2024 (the data files of the `wpp2024` R package, see README.md).

    python3 build.py POPPROJ1DT.rda POPPROJAGE5DT.rda OUT_DIR [EXTRACT_DIR]

Standard library only. EXTRACT_DIR, when given, receives the small source extracts that
tests/tables/sources_test.cpp recomputes the tables from.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import countries as C  # noqa: E402
import rdata  # noqa: E402

SOURCE = "UN DESA Population Division, World Population Prospects"
EDITION = "2024 revision, medium variant (wpp2024 R package data)"
URL = "https://population.un.org/wpp/"
LICENCE = "CC BY 3.0 IGO"
AGES = ["0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54",
        "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90-94", "95-99", "100+"]
EXTRACT_COUNTRIES = ["JPN", "NGA", "DEU"]


def main(popproj1, popprojage5, out_dir, extract_dir=None):
    total = rdata.load(popproj1)["popproj1dt"]
    age5 = rdata.load(popprojage5)["popprojAge5dt"]

    # Total population, 1 July 2025, thousands.
    pop = {}
    for i, y in enumerate(total["year"]):
        if int(y) == 2025:
            pop[int(total["country_code"][i])] = (total["popF"][i], total["popM"][i])
    # M49 codes below 900 are countries and areas; 900 and above are the world and regions.
    ranked = sorted((m for m in pop if 0 < m < 900), key=lambda m: -sum(pop[m]))
    expected = [m for m, _, _ in C.COUNTRIES]
    got = ranked[: len(expected)]
    if got != expected:
        sys.exit("the country list in common/countries.py is not the top %d of this file: %s" % (len(expected), got))

    # Population by sex and five-year age group, "2025" = mean of 1 July 2024 and 1 July 2025.
    by_age = {}
    for i, y in enumerate(age5["year"]):
        if str(y) != "2025":
            continue
        m = int(age5["country_code"][i])
        if m in C.BY_M49 or m == 900:
            by_age.setdefault(m, {})[age5["age"][i]] = (age5["popF"][i], age5["popM"][i])
    for m in list(C.BY_M49) + [900]:
        if sorted(by_age.get(m, {})) != sorted(AGES):
            sys.exit("age groups missing for M49 %d" % m)

    write_countries(out_dir, pop)
    write_sex_ratio(out_dir, pop)
    write_age_structure(out_dir, by_age)
    write_age_by_sex(out_dir, by_age)
    if extract_dir:
        write_extract(extract_dir, pop, by_age)


def write_countries(out_dir, pop):
    comment = """The %d most populous countries (UN WPP 2024, total population on 1 July 2025, medium
variant) weighted by that population: each weight is the country's share of the %d countries'
combined population (%.1f million, %.0f%% of the world's). ISO 3166 short names, with the common
short forms "United States", "United Kingdom", "Iran", "Tanzania", "Republic of Korea"; every
stdlib table keyed by country uses exactly these names.""" % (
        len(C.COUNTRIES), len(C.COUNTRIES), sum(sum(pop[m]) for m, _, _ in C.COUNTRIES) / 1000,
        100 * sum(sum(pop[m]) for m, _, _ in C.COUNTRIES) / sum(pop[900]))
    text = C.header("wpp2024/build.py", "countries",
                    "Countries of residence weighted by total population (the 45 most populous, WPP 2024, 2025)",
                    SOURCE + ": total population by sex (popproj1dt), 1 July 2025", EDITION, URL, LICENCE, 2025,
                    "category", "share", None, comment)
    text += "\n[weights]\n"
    for name, w in C.shares([(name, sum(pop[m])) for m, _, name in C.COUNTRIES]):
        text += "%s = %s\n" % (C.toml_key(name), C.fmt(w))
    open(os.path.join(out_dir, "countries.toml"), "w").write(text)


def write_sex_ratio(out_dir, pop):
    comment = """Share of the population that is female or male on 1 July 2025 (UN WPP 2024, medium variant).
"*" is the world, used for a country not listed."""
    text = C.header("wpp2024/build.py", "sex_ratio", "Share of the population that is female or male, by country",
                    SOURCE + ": total population by sex (popproj1dt), 1 July 2025", EDITION, URL, LICENCE, 2025,
                    "category", "share", ["country"], comment)
    for m, name in [(m, name) for m, _, name in C.COUNTRIES] + [(900, "*")]:
        f, ml = pop[m]
        text += "\n[weights.%s]\n" % C.toml_key(name)
        for k, w in C.shares([("female", f), ("male", ml)]):
            text += "%s = %s\n" % (k, C.fmt(w))
    open(os.path.join(out_dir, "sex_ratio.toml"), "w").write(text)


def age_rows(groups, sexes):
    return [(a, sum(groups[a][s] for s in sexes)) for a in AGES]


def write_age_structure(out_dir, by_age):
    comment = """Population share by five-year age group, both sexes (UN WPP 2024, medium variant). The
wpp2024 package's "2025" five-year table is the mean of the populations of 1 July 2024 and
1 July 2025. "100+" is drawn as 100..104. "*" is the world, used for a country not listed."""
    text = C.header("wpp2024/build.py", "age_structure", "Population share by five-year age group, by country",
                    SOURCE + ": population by five-year age group and sex (popprojAge5dt), 2025", EDITION, URL,
                    LICENCE, 2025, "integer-range", "share", ["country"], comment)
    for m, name in [(m, name) for m, _, name in C.COUNTRIES] + [(900, "*")]:
        text += "\n[weights.%s]\n" % C.toml_key(name)
        for a, w in C.shares(age_rows(by_age[m], (0, 1))):
            text += '"%s" = %s\n' % (a, C.fmt(w))
    open(os.path.join(out_dir, "age_structure.toml"), "w").write(text)


def write_age_by_sex(out_dir, by_age):
    comment = """Population share by five-year age group for each sex (UN WPP 2024, medium variant), for
drawing age after gender: `anchor age ~ table stdlib.age_by_sex by country, gender`. The "2025"
five-year table of the wpp2024 package is the mean of 1 July 2024 and 1 July 2025. "100+" is drawn
as 100..104. "*" is the world."""
    text = C.header("wpp2024/build.py", "age_by_sex", "Population share by five-year age group, by country and sex",
                    SOURCE + ": population by five-year age group and sex (popprojAge5dt), 2025", EDITION, URL,
                    LICENCE, 2025, "integer-range", "share", ["country", "gender"], comment)
    for m, name in [(m, name) for m, _, name in C.COUNTRIES] + [(900, "*")]:
        for s, sex in ((0, "female"), (1, "male")):
            text += "\n[weights.%s.%s]\n" % (C.toml_key(name), sex)
            for a, w in C.shares(age_rows(by_age[m], (s,))):
                text += '"%s" = %s\n' % (a, C.fmt(w))
    open(os.path.join(out_dir, "age_by_sex.toml"), "w").write(text)


def write_extract(extract_dir, pop, by_age):
    os.makedirs(extract_dir, exist_ok=True)
    with open(os.path.join(extract_dir, "wpp2024_population_2025.csv"), "w") as f:
        f.write("# UN WPP 2024 (wpp2024 R package, popproj1dt): population on 1 July 2025, thousands\n")
        f.write("country,popF,popM\n")
        for m, _, name in C.COUNTRIES:
            f.write('"%s",%.3f,%.3f\n' % (name, pop[m][0], pop[m][1]))
    with open(os.path.join(extract_dir, "wpp2024_age5_2025.csv"), "w") as f:
        f.write("# UN WPP 2024 (wpp2024 R package, popprojAge5dt, year 2025): population by age group, thousands\n")
        f.write("country,age,popF,popM\n")
        for iso in EXTRACT_COUNTRIES:
            m = [m for m, i, _ in C.COUNTRIES if i == iso][0]
            for a in AGES:
                f.write('"%s",%s,%.3f,%.3f\n' % (C.BY_M49[m][1], a, by_age[m][a][0], by_age[m][a][1]))


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(*sys.argv[1:])
