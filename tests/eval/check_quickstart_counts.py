#!/usr/bin/env python3
"""Acceptance: `persona eval` on quickstart output equals an independent count.

Generates 200 quickstart personas with the built `persona`, evaluates them with `persona eval --json`,
and recounts every checked figure here, in Python, straight from the JSONL (json module only, no
product code): attributes, repeated leaf names, negative filler (by the definitions in
stdlib/eval/eval.toml, read with tomllib), duplicate values, categories, tiers, narrative words.

usage: check_quickstart_counts.py PERSONA_BIN SOURCE_DIR WORK_DIR
"""
import collections
import json
import os
import subprocess
import sys
import tomllib


def fold(s):
    # ASCII letters and digits lower-cased, other ASCII dropped, bytes >= 0x80 kept.
    out = bytearray()
    for b in s.encode("utf-8"):
        if b >= 0x80:
            out.append(b)
        elif chr(b).isalnum():
            out.append(ord(chr(b).lower()))
    return bytes(out)


def main():
    persona, source, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "q.jsonl")
    report = os.path.join(work, "q.eval.json")
    subprocess.run([persona, "run", "examples/quickstart.persona", "-n", "200", "-o", out, "-q"], cwd=source,
                   check=True)
    subprocess.run([persona, "eval", out, "--recipe", "examples/quickstart.persona", "--json", report, "-q"],
                   cwd=source, check=True)
    with open(os.path.join(source, "stdlib/eval/eval.toml"), "rb") as f:
        filler_def = tomllib.load(f)["filler"]
    exact = {e.lower() for e in filler_def["exact"]}
    prefixes = [p.lower() for p in filler_def["prefix"]]

    def is_filler(v):
        v = v.strip(" \t\r\n\f\v").lower()
        return v in exact or any(v.startswith(p) for p in prefixes)

    personas = attributes = filled = repeated = filler = duplicates = 0
    tiers = collections.Counter()
    categories = collections.Counter()
    categories_per_persona = []
    words = []
    counts = []
    with open(out, encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            personas += 1
            attrs = p["attributes"]
            attributes += len(attrs)
            counts.append(len(attrs))
            names = collections.Counter(fold(a["path"].rsplit("/", 1)[-1]) for a in attrs)
            repeated += sum(c - 1 for c in names.values())
            values = collections.Counter()
            for a in attrs:
                tiers[a["tier"]] += 1
                categories[a["path"].split("/", 1)[0]] += 1
                if a["status"] == "filled" and a["value"] is not None:
                    filled += 1
                    filler += is_filler(a["value"])
                    values[fold(a["value"])] += 1
            duplicates += sum(c - 1 for c in values.values())
            categories_per_persona.append(len({a["path"].split("/", 1)[0] for a in attrs}))
            words.append(len(p["narrative"].split()))

    with open(report, encoding="utf-8") as f:
        got = json.load(f)["files"][0]
    m = got["metrics"]
    expected = {
        "personas": personas,
        "attributes_total": attributes,
        "attributes_min": min(counts),
        "attributes_max": max(counts),
        "filled_total": filled,
        "repeated_names_count": repeated,
        "filler_count": filler,
        "duplicate_values_count": duplicates,
        "categories_min": min(categories_per_persona),
        "narrative_words_min": min(words),
        "narrative_words_max": max(words),
    }
    approx = {
        "attributes_mean": attributes / personas,
        "filler": filler / filled,
        "duplicate_values": duplicates / filled,
        "repeated_names": repeated / attributes,
        "categories_mean": sum(categories_per_persona) / personas,
        "narrative_words_mean": sum(words) / personas,
        "tier_near": tiers["near"] / attributes,
        "tier_mid": tiers["mid"] / attributes,
        "tier_far": tiers["far"] / attributes,
    }
    failures = []
    for k, v in expected.items():
        if m.get(k) != v:
            failures.append(f"{k}: persona eval says {m.get(k)}, the independent count {v}")
    for k, v in approx.items():
        if k not in m or abs(m[k] - v) > 1e-9:
            failures.append(f"{k}: persona eval says {m.get(k)}, the independent count {v}")
    if dict(got["tiers"]) != dict(tiers):
        failures.append(f"tiers: persona eval says {got['tiers']}, the independent count {dict(tiers)}")
    got_categories = {c["category"]: c["attributes"] for c in got["categories"]}
    if got_categories != dict(categories):
        failures.append(f"categories: persona eval says {got_categories}, the independent count {dict(categories)}")
    print(f"checked {len(expected) + len(approx) + 2} figures over {personas} personas, {attributes} attributes: "
          f"filler {filler}, repeated names {repeated}, duplicate values {duplicates}, tiers {dict(tiers)}")
    for f in failures:
        print("MISMATCH " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
