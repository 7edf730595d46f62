#!/usr/bin/env python3
"""Writes cldr37_territory_languages.csv (the languagePopulation entries of the 45 stdlib countries)
from Unicode CLDR 37 territoryInfo: either common/supplemental/supplementalData.xml of the CLDR
release (unicode-org/cldr, tag release-37) or its JSON form supplemental/territoryInfo.json of the
cldr-core package 37.0.0 (see README.md).

    python3 extract.py supplementalData.xml|territoryInfo.json

Standard library only. Run once when the source changes; build.py reads only the extract.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import countries as C  # noqa: E402

# ISO 3166-1 alpha-2 codes (CLDR's territory codes) of the stdlib countries.
ALPHA2 = {"IND": "IN", "CHN": "CN", "USA": "US", "IDN": "ID", "PAK": "PK", "NGA": "NG", "BRA": "BR", "BGD": "BD",
          "RUS": "RU", "ETH": "ET", "MEX": "MX", "JPN": "JP", "EGY": "EG", "PHL": "PH", "COD": "CD", "VNM": "VN",
          "IRN": "IR", "TUR": "TR", "DEU": "DE", "THA": "TH", "TZA": "TZ", "GBR": "GB", "FRA": "FR", "ZAF": "ZA",
          "ITA": "IT", "KEN": "KE", "MMR": "MM", "COL": "CO", "SDN": "SD", "UGA": "UG", "KOR": "KR", "ESP": "ES",
          "DZA": "DZ", "IRQ": "IQ", "ARG": "AR", "AFG": "AF", "YEM": "YE", "CAN": "CA", "UKR": "UA", "AGO": "AO",
          "MAR": "MA", "POL": "PL", "UZB": "UZ", "MYS": "MY", "MOZ": "MZ"}
OUT = "cldr37_territory_languages.csv"
MIN_PERCENT = 1.0  # entries below 1 % are left out of the extract (they would be "other language")


def read_json(path):
    """{territory: (population, [(language, populationPercent, officialStatus)])}"""
    d = json.load(open(path, encoding="utf-8"))
    version = d["supplemental"]["version"]["_cldrVersion"]
    out = {}
    for t, info in d["supplemental"]["territoryInfo"].items():
        langs = [(k, v["_populationPercent"], v.get("_officialStatus", ""))
                 for k, v in info.get("languagePopulation", {}).items()]
        out[t] = (info["_population"], langs)
    return version, out


def read_xml(path):
    root = ET.parse(path).getroot()
    out = {}
    for t in root.iter("territory"):
        if t.get("population") is None:
            continue
        langs = [(lp.get("type"), lp.get("populationPercent"), lp.get("officialStatus", ""))
                 for lp in t.findall("languagePopulation")]
        out[t.get("type")] = (t.get("population"), langs)
    return "(XML)", out


def main(path):
    version, info = (read_xml if path.endswith(".xml") else read_json)(path)
    if version not in ("37", "(XML)"):
        sys.exit("expected CLDR 37, the file is CLDR %s" % version)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write("# Unicode CLDR 37 (2020), supplemental territoryInfo: for each of the 45 stdlib countries, every\n")
        f.write("# languagePopulation entry (language code, populationPercent = share of the population that\n")
        f.write("# speaks the language, first or second language, and officialStatus) of 1 % or more, copied as\n")
        f.write("# published, sorted by percent. Copyright Unicode, Inc., Unicode License (https://www.unicode.org/license.txt).\n")
        f.write("country,territory,population,language,populationPercent,officialStatus\n")
        for _, iso, name in C.COUNTRIES:
            t = ALPHA2[iso]
            if t not in info:
                sys.exit("territory %s (%s) is not in the file" % (t, name))
            pop, langs = info[t]
            for lang, pct, status in sorted(langs, key=lambda x: (-float(x[1]), x[0])):
                if float(pct) < MIN_PERCENT:
                    continue
                f.write('"%s",%s,%s,%s,%s,%s\n' % (name, t, pop, lang, pct, status))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
