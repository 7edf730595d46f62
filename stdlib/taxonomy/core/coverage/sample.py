#!/usr/bin/env python3
"""Draw the judged samples of the DeepPersona reference taxonomy's leaves (see README.md).

Usage: python3 sample.py [REFERENCE_JSON]          # prints both samples
       python3 sample.py [REFERENCE_JSON] --main    # only the 150-leaf judged sample
       python3 sample.py [REFERENCE_JSON] --heldout # only the 50-leaf held-out sample

REFERENCE_JSON defaults to ../../../../../shared/interop/deeppersona-attributes-merged.json (the
shared folder beside the checkout). Output: one `reference path` per line, the reference's node
names trimmed of surrounding spaces and joined by " / " (two reference names contain a bare "/").

A leaf (a key whose value is the empty object) is well-formed when its trimmed name
  - is 2 to 60 characters long,
  - starts with a letter,
  - is not a pure number,
  - is not a sentence: at most 8 words, no ". " inside and no final ".", "!", "?" or ":",
and its path has depth >= 2 (it is not a top-level key).
The well-formed leaves, in sorted order of their paths (duplicates after trimming counted once),
are sampled with random.Random(16).sample(leaves, 150); the held-out sample is
random.Random(1616).sample(rest, 50) from the leaves not in the first sample, so the two are disjoint.
"""
import json
import os
import random
import re
import sys

SEP = " / "
MAIN_SEED, MAIN_SIZE = 16, 150
HELDOUT_SEED, HELDOUT_SIZE = 1616, 50


def default_reference():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "..", "..", "shared", "interop",
                                         "deeppersona-attributes-merged.json"))


def leaves(node, path=()):
    for key, value in node.items():
        name = key.strip()
        if isinstance(value, dict) and value:
            yield from leaves(value, path + (name,))
        else:
            yield path + (name,)


def well_formed(path):
    name = path[-1]
    if len(path) < 2 or not 2 <= len(name) <= 60:
        return False
    if not name[0].isalpha() or re.fullmatch(r"[0-9.,]+", name):
        return False
    if len(name.split()) > 8 or ". " in name or name[-1] in ".!?:":
        return False
    return True


def samples(reference):
    with open(reference, encoding="utf-8") as f:
        tree = json.load(f)
    pool = sorted({SEP.join(p) for p in leaves(tree) if well_formed(p)})
    main = random.Random(MAIN_SEED).sample(pool, MAIN_SIZE)
    chosen = set(main)
    rest = [p for p in pool if p not in chosen]
    heldout = random.Random(HELDOUT_SEED).sample(rest, HELDOUT_SIZE)
    return pool, main, heldout


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    reference = args[0] if args else default_reference()
    pool, main_sample, heldout = samples(reference)
    if "--heldout" not in flags:
        if "--main" not in flags:
            print(f"# {len(pool)} well-formed leaves; judged sample: random.Random({MAIN_SEED}), {MAIN_SIZE}")
        print("\n".join(main_sample))
    if "--main" not in flags:
        if "--heldout" not in flags:
            print(f"# held-out sample: random.Random({HELDOUT_SEED}), {HELDOUT_SIZE}, disjoint from the first")
        print("\n".join(heldout))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
