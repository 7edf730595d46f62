#!/usr/bin/env python3
"""Builds languages.toml (first language by country) from the files beside this script:
census_overrides.csv (countries with a national census figure, and the world row "*"),
cldr37_territory_languages.csv (Unicode CLDR 37 territoryInfo, the 45 stdlib countries) and
cldr_first_languages.csv (which CLDR languages are read as first languages). See README.md.

    python3 build.py ../..

Standard library only; reads nothing but the files beside this script.
"""
import csv
import os
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import countries as C  # noqa: E402

OTHER = "other language"
FACTS = os.path.join(HERE, "..", "..", "..", "taxonomy", "core", "facts.rules")
URL = "https://github.com/unicode-org/cldr/blob/release-37/common/supplemental/supplementalData.xml"


def rows(name):
    with open(os.path.join(HERE, name), encoding="utf-8") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def num(s):
    return float(s)


def fact_values(path, fact):
    """The values of `fact` declared in a rules file ("fact NAME | ..." then "  = a | b | ...")."""
    lines = open(path, encoding="utf-8").read().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("fact %s " % fact) or line.startswith("fact %s|" % fact):
            return {v.strip().split(" @")[0] for v in lines[i + 1].strip().lstrip("=").split("|")}
    sys.exit("%s declares no fact %s" % (path, fact))


def key(label):
    return label.lower().replace(" ", "_")


def cldr_shares(selection, cldr):
    """[(label, percent)] of a CLDR country: each selected language's populationPercent ("|": the
    largest of the codes, "+": their sum), in order, at most what the earlier ones leave of 100; the
    rest is "other language". tests/tables/sources_test.cpp recomputes this."""
    out, left = {}, 100.0
    for code, label in selection:
        if "|" in code:
            p = max(cldr[c] for c in code.split("|"))
        else:
            p = sum(cldr[c] for c in code.split("+"))
        p = round(min(p, left), 1)
        if p > 0:
            out[label] = round(out.get(label, 0.0) + p, 1)
            left = round(left - p, 1)
    if left > 0:
        out[OTHER] = round(out.get(OTHER, 0.0) + left, 1)
    # "other language" last, as in the census rows
    return [(k, v) for k, v in out.items() if k != OTHER] + ([(OTHER, out[OTHER])] if OTHER in out else [])


def main(out_dir):
    overrides, sources = {}, {}
    for r in rows("census_overrides.csv"):
        overrides.setdefault(r["country"], []).append((r["label"], r["percent"]))
        sources.setdefault(r["country"], r["source"])
    cldr = {}
    for r in rows("cldr37_territory_languages.csv"):
        cldr.setdefault(r["country"], {})[r["language"]] = num(r["populationPercent"])
    values = fact_values(FACTS, "main_language")
    selection = {}
    for r in rows("cldr_first_languages.csv"):
        if r["cldr"] and key(r["label"]) not in values:
            sys.exit("%s: %s is not a value of main_language" % (r["country"], r["label"]))
        if r["cldr"] and r["label"] != r["language"] and (r["label"] != OTHER or key(r["language"]) in values):
            sys.exit("%s: %s should be drawn as the value %s" % (r["country"], r["language"], key(r["language"])))
        sel = selection.setdefault(r["country"], [])
        if r["cldr"]:
            for c in r["cldr"].replace("|", "+").split("+"):
                if c not in cldr.get(r["country"], {}):
                    sys.exit("%s: CLDR lists no %s" % (r["country"], c))
            sel.append((r["cldr"], r["label"]))
    table = {}
    for name in ["*"] + [n for _, _, n in C.COUNTRIES]:
        if name in overrides and name in selection:
            sys.exit("%s is both a census override and a CLDR country" % name)
        if name in overrides:
            table[name] = overrides[name]  # the percents as written in the CSV
        elif name in selection:
            table[name] = cldr_shares(selection[name], cldr[name])
        else:
            sys.exit("%s has no row in census_overrides.csv or cldr_first_languages.csv" % name)
        total = sum(float(p) for _, p in table[name])
        if abs(total - 100) > 0.05:
            sys.exit("%s: shares sum to %g" % (name, total))

    census = [n for _, _, n in C.COUNTRIES if n in overrides]
    from_cldr = [n for _, _, n in C.COUNTRIES if n in selection]
    by_country = "\n".join(textwrap.fill("%s: %s." % (n, sources[n]), 98, initial_indent="  ",
                                          subsequent_indent="    ") for n in census)
    cldr_list = textwrap.fill("%s (%d countries): Unicode CLDR territoryInfo (CLDR 37, 2020), languagePopulation "
                              "populationPercent, read as a first-language share:" % (", ".join(from_cldr), len(from_cldr)),
                              98, initial_indent="  ", subsequent_indent="    ")
    comment = """First language (mother tongue) by country: the share of the population whose first language is
each language, in percent, rounded. Languages without a value of the `main_language` fact of
stdlib.core (stdlib/taxonomy/core/facts.rules; "Mandarin Chinese" matches `mandarin_chinese`),
and those CLDR gives under about 2 %%, are grouped as "other language".

Sources, by country (approximate; national censuses where they ask, else Unicode CLDR):
%s
%s
    the national (or common home) language, then the other languages CLDR lists that are first
    languages of a native population (e.g. Kurdish in Iraq, Russian in Ukraine), each at most what
    the earlier ones leave; the rest is "other language". CLDR's percent counts second-language
    speakers too, so a national language is over-counted where many learn it as a second language
    (e.g. Swahili in Tanzania). Second languages CLDR lists (English, French, ... learnt at school;
    Swahili in Uganda and DR Congo) are left out: DR Congo and Uganda have no labelled first
    language, all "other language". Per-language choices:
    sources/languages/cldr_first_languages.csv.
CLDR data: Copyright Unicode, Inc., Unicode License (https://www.unicode.org/license.txt).
"*" is the previous edition's world estimate (first-language speakers over world population), for
a country that is not listed.""" % (by_country, cldr_list)
    text = C.header("languages/build.py", "languages", "First language (mother tongue) by country, percent of the population",
                    "National censuses (India 2011, US ACS 2019, Indonesia 2010, Pakistan 2017, Ethiopia 2007, "
                    "Philippines 2020, Kenya 2019, South Africa 2011, Canada 2021, England and Wales 2021), KONDA 2006 "
                    "(Türkiye), CIA World Factbook 2018 (Nigeria) and Unicode CLDR territoryInfo (CLDR 37); rounded, "
                    "approximate",
                    "censuses as listed above; Unicode CLDR 37 (2020) territoryInfo", URL,
                    "census figures: public statistics, cited; CLDR: Unicode License (https://www.unicode.org/license.txt)",
                    2020, "category", "percent", ["country"], comment)
    for name, shares in table.items():
        text += "\n[weights.%s]\n" % ('"%s"' % name)
        for label, p in shares:
            text += '"%s" = %s\n' % (label, p if isinstance(p, str) else "%g" % p)
    with open(os.path.join(out_dir, "languages.toml"), "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
