#!/usr/bin/env python3
"""List candidate semantic twins among the leaves of stdlib.core (pairs to review by hand).

Usage: python3 stdlib/taxonomy/core/tools/twin_candidates.py [--min 0.45] [--all]

Each leaf becomes a bag of stemmed content words from its name (weight 3) and description
(weight 1), with a small synonym map (smoking ~ tobacco, ambiguity ~ uncertainty, ...) so that
different words for one idea meet. Pairs are scored by cosine similarity of TF-IDF weighted bags;
pairs already in one class of twins.toml are skipped unless --all is given. The output is a review
list, not a decision: twins.toml records the classes that were judged to be one meaning.
Standard library only (no third-party packages).
"""
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORE = os.path.dirname(HERE)

STOP = set("""a an the of and or to in on for with by at from as is are be being been their they them
person persons person's people how what which whether who whom the this that these those it its
into about over under more most less than very much many any some other others own one two
usual usually typical typically main general overall current currently kind level degree sort
does do done has have had""".split())

# Different words, one idea (applied after stemming).
SYNONYMS = {
    "tobacco": "smok", "cigarett": "smok", "smoker": "smok", "smoke": "smok",
    "ambigu": "uncertain", "uncertainti": "uncertain",
    "alcohol": "drink", "drinker": "drink",
    "spous": "partner", "husband": "partner", "wife": "partner",
    "kid": "child", "children": "child", "offspr": "child",
    "job": "work", "career": "work", "employ": "work",
    "punctual": "punctual", "late": "punctual",
    "faith": "religi", "worship": "religi",
    "sport": "exercis", "workout": "exercis",
    "tv": "televis", "film": "movi",
    "sibl": "sibl", "brother": "sibl", "sister": "sibl",
}


def stem(w):
    for suf in ("ational", "ation", "ness", "ment", "ities", "ity", "ings", "ing", "ies", "ied", "ers", "er",
                "ed", "es", "s", "ly", "al"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            w = w[: -len(suf)]
            break
    return SYNONYMS.get(w, w)


def words(text):
    return [stem(w) for w in re.findall(r"[a-z]+", text.lower()) if w not in STOP and len(w) > 2]


def leaves():
    out = []
    for fn in sorted(os.listdir(CORE)):
        if not fn.endswith(".tax"):
            continue
        stack = []
        lines = open(os.path.join(CORE, fn), encoding="utf-8").read().split("\n")
        nodes = []
        for line in lines:
            s = line.strip()
            if not s or s.startswith("#") or s[0] in "=?~":
                continue
            level = (len(line) - len(line.lstrip(" "))) // 2
            name, _, desc = s.partition("|")
            stack = stack[:level] + [name.strip()]
            nodes.append(("/".join(stack), desc.strip(), level))
        for i, (path, desc, level) in enumerate(nodes):
            if i + 1 < len(nodes) and nodes[i + 1][2] > level:
                continue
            out.append((path, desc))
    return out


def twin_classes():
    path = os.path.join(CORE, "twins.toml")
    classes = []
    if os.path.exists(path):
        for m in re.finditer(r"leaves\s*=\s*\[([^\]]*)\]", open(path, encoding="utf-8").read()):
            classes.append(set(re.findall(r'"([^"]+)"', m.group(1))))
    return classes


def main():
    minimum = 0.45
    if "--min" in sys.argv:
        minimum = float(sys.argv[sys.argv.index("--min") + 1])
    show_all = "--all" in sys.argv
    items = leaves()
    bags = []
    df = {}
    for path, desc in items:
        bag = {}
        for w in words(path.rsplit("/", 1)[1]):
            bag[w] = bag.get(w, 0) + 3
        for w in words(desc):
            bag[w] = bag.get(w, 0) + 1
        bags.append(bag)
        for w in bag:
            df[w] = df.get(w, 0) + 1
    n = len(items)
    vecs = []
    for bag in bags:
        v = {w: c * math.log(n / df[w]) for w, c in bag.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({w: x / norm for w, x in v.items()})
    index = {}
    for i, v in enumerate(vecs):
        for w in v:
            index.setdefault(w, []).append(i)
    classes = twin_classes()
    pairs = []
    for i, v in enumerate(vecs):
        scores = {}
        for w, x in v.items():
            for j in index[w]:
                if j > i:
                    scores[j] = scores.get(j, 0.0) + x * vecs[j][w]
        for j, s in scores.items():
            if s < minimum:
                continue
            a, b = items[i][0], items[j][0]
            if not show_all and any(a in c and b in c for c in classes):
                continue
            pairs.append((s, a, b))
    pairs.sort(reverse=True)
    for s, a, b in pairs:
        print(f"{s:.2f}\t{a}\t{b}")
    print(f"# {len(pairs)} pairs at cosine >= {minimum} among {n} leaves", file=sys.stderr)


if __name__ == "__main__":
    main()
