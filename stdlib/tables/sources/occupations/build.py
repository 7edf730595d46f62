#!/usr/bin/env python3
"""Builds occupations.toml: activity status and ISCO-08 major group by country, sex and age band.

    python3 build.py EAPEP_DIR ILOSTAT_EXTRACT.csv INCOME_METADATA.csv OUT_DIR

EAPEP_DIR holds the two ILO EAPEP files named in README.md; ILOSTAT_EXTRACT.csv is the extract of
ILO modelled estimates beside this script; INCOME_METADATA.csv gives each country's World Bank
income group. Standard library only. The model is described in README.md and in the table's header.
"""
import csv
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import countries as C  # noqa: E402

AGES = ["15_19", "20_24", "25_29", "30_34", "35_39", "40_44", "45_49", "50_54", "55_59", "60_64", "65"]
AGRI = "Agricultural, forestry and fishery workers"
GROUPS = [  # ISCO-08 major group -> label (6 and 9 are split below)
    ("1", "Managers"), ("2", "Professionals"), ("3", "Technicians and associate professionals"),
    ("4", "Clerical support workers"), ("5", "Service and sales workers"),
    ("7", "Craft and related trades workers"), ("8", "Plant and machine operators and assemblers"),
]
ELEMENTARY = "Elementary occupations"
LFPR_YEAR = "2020"
GROUP_NAMES = {"HI": "high income", "UM": "upper-middle income", "CN": "upper-middle income",
               "LM": "lower-middle income", "LO": "low income"}


def band(a):
    return a.replace("_", "-") if a != "65" else "65+"


def load_lfpr(eapep_dir):
    out = {}
    for sex, fname in (("female", "fpr"), ("male", "mpr")):
        path = os.path.join(eapep_dir, "ddf--datapoints--%s--by--country--age_group--year.csv" % fname)
        for r in csv.DictReader(open(path)):
            if r["year"] == LFPR_YEAR and r["age_group"] in AGES:
                out[(r["country"].upper(), sex, r["age_group"])] = float(r[fname]) / 100.0
    return out


def load_extract(path):
    eco, ocu = {}, {}
    for r in csv.DictReader(open(path)):
        key = r["ref_area"].upper()
        target = eco if r["indicator"] == "emp_2emp_sex_eco_nb" else ocu
        target.setdefault(key, {})[r["classif1"]] = float(r["value"])
    return eco, ocu


def main(eapep_dir, extract, metadata, out_dir):
    lfpr = load_lfpr(eapep_dir)
    eco, ocu = load_extract(extract)
    income = {r["ISO3"]: r["Income"] for r in csv.DictReader(open(metadata))}
    group = {iso: GROUP_NAMES[income[iso]] for _, iso, _ in C.COUNTRIES}

    # Agricultural share of employment (ISIC A), 2024: own figure, else the employment-weighted
    # mean of the extract countries of the same income group, else of lower-middle income.
    agri_share, agri_note = {}, {}
    for _, iso, name in C.COUNTRIES:
        if iso in eco:
            agri_share[iso] = eco[iso]["eco_aggregate_agr"] / eco[iso]["eco_aggregate_total"]
            agri_note[iso] = "ILOSTAT %s" % iso
    for _, iso, name in C.COUNTRIES:
        if iso in agri_share:
            continue
        for g in (group[iso], "lower-middle income"):
            peers = [p for p in eco if group.get(p) == g]
            if peers:
                agri_share[iso] = sum(eco[p]["eco_aggregate_agr"] for p in peers) / sum(
                    eco[p]["eco_aggregate_total"] for p in peers)
                agri_note[iso] = "no extract: mean of %s (%s)" % ("/".join(sorted(peers)), g)
                break

    # Occupation mix outside agriculture: ISCO major groups 1-5, 7, 8, and elementary (the ILO
    # modelled group "6 and 9" minus agricultural employment), from the profile country.
    def mix(profile):
        o, e = ocu[profile], eco[profile]
        rows = [(label, o["ocu_details_" + g]) for g, label in GROUPS]
        rows.append((ELEMENTARY, max(0.0, o["ocu_details_96"] - e["eco_aggregate_agr"])))
        total = sum(w for _, w in rows)
        return [(label, w / total) for label, w in rows]

    profile_of = {iso: ("USA" if group[iso] == "high income" else "IND") for _, iso, _ in C.COUNTRIES}
    mixes = {p: mix(p) for p in set(profile_of.values())}

    comment = """Activity status and occupation by country, sex and age band. Weights are shares of the persons
in each country x sex x age band; within the employed, occupations are ISCO-08 major groups.

Model (stdlib/tables/sources/occupations/README.md):
- Ages 0-14: Student.
- Ages 15+: employed share = labour-force participation rate by sex and five-year age group
  (ILO EAPEP 2015 edition, %s projection). Unemployment is not separated in this edition (the
  labour force is drawn as employed). Outside the labour force: Student below 25, Homemaker from
  25 to 59, Retired from 60.
- Employed persons: "%s" = the ILO modelled share of employment in agriculture,
  forestry and fishing (ISIC A, 2024); the rest follows the ILO modelled ISCO-08 major-group mix
  outside agriculture (2024) of the profile country (United States for high-income countries,
  India otherwise), where "Elementary occupations" = the ILO modelled group "6 and 9" minus
  agricultural employment. The same mix is used for both sexes and all ages.

Agricultural share and its origin, per country:
""" % (LFPR_YEAR, AGRI)
    for _, iso, name in C.COUNTRIES:
        comment += "  %s: %.1f%% (%s); occupation mix of %s\n" % (
            name, 100 * agri_share[iso], agri_note[iso], "United States" if profile_of[iso] == "USA" else "India")
    text = C.header("occupations/build.py", "occupations",
                    "Activity status and occupation (ISCO-08 major group) by country, sex and age band",
                    "ILO, ILOSTAT modelled estimates (employment by sex and occupation; by sex and economic "
                    "activity) and ILO Economically Active Population Estimates and Projections (EAPEP)",
                    "ILOSTAT modelled estimates as mirrored by open-numbers/ddf--ilo--ilostat (2024 figures); EAPEP 2015 edition (2020 projection)",
                    "https://ilostat.ilo.org/data/", "CC BY 4.0", 2024, "category", "share",
                    ["country", "gender", "age"], comment)
    for _, iso, name in C.COUNTRIES:
        a = agri_share[iso]
        for sex in ("female", "male"):
            text += "\n[weights.%s.%s.\"0-14\"]\nStudent = 1\n" % (C.toml_key(name), sex)
            for ag in AGES:
                p = lfpr[(iso, sex, ag)]
                lo = 65 if ag == "65" else int(ag.split("_")[0])
                inactive = "Student" if lo < 25 else ("Homemaker" if lo < 60 else "Retired")
                rows = [(AGRI, p * a)] + [(label, p * (1 - a) * w) for label, w in mixes[profile_of[iso]]]
                rows.append((inactive, 1.0 - p))
                text += "\n[weights.%s.%s.\"%s\"]\n" % (C.toml_key(name), sex, band(ag))
                for label, w in C.shares([r for r in rows if r[1] > 0]):
                    text += "%s = %s\n" % (C.toml_key(label), C.fmt(w))
    text += """
[derive.employment]
"Student"   = "student"
"Retired"   = "retired"
"Homemaker" = "homemaker"
"*"         = "employed"

# agricultural: persons who work in agriculture, forestry or fishing (the settlement table keeps
# them out of cities of 300,000 or more); other: everyone else.
[derive.occupation_class]
"%s" = "agricultural"
"*" = "other"
""" % AGRI
    open(os.path.join(out_dir, "occupations.toml"), "w").write(text)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
