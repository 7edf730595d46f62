#!/usr/bin/env python3
"""Benchmark: how `persona` scales with the size of four inputs (issue 18, "linear paths").

    bench_scale.py PERSONA_BIN WORK_DIR [--quick]

Writes each input at three sizes (n/4, n/2, n) into WORK_DIR, runs the command on it and prints
the seconds and the growth exponent between the two largest sizes (1.0 = linear, 2.0 = quadratic):

  anchors   a recipe with n anchors              `persona check` and `persona run --count 2`
  csv       a user table of n CSV rows           `persona check` and `persona run --count 2`
  taxonomy  a taxonomy of n leaves (Zipf words)  `persona run --count 2`
  repl      a triple-quoted text of n lines      `persona repl` reading it from a pipe

Full sizes: 40,000 anchors, 200,000 rows, 100,000 leaves, 40,000 lines (the issue's figures).
--quick divides them by 20 (the CTest smoke run: every command must succeed; times are printed,
never asserted). Exit 1 when a command fails.
"""
import math
import os
import random
import subprocess
import sys
import time


def write_anchors(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write('recipe "scale-anchors"\ntaxonomy stdlib.core\n')
        for i in range(n):
            f.write(f"anchor a{i} ~ uniform(0, 1)\n")
        f.write("narrative none\n")
    return [["check", path], ["run", path, "--count", "2", "--out", path + ".jsonl"]]


def write_csv(path, n):
    csv = path + ".csv"
    with open(csv, "w", encoding="utf-8") as f:
        f.write("value,weight\n")
        for i in range(n):
            f.write(f"v{i},{1 + i % 7}\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write('recipe "scale-csv"\ntaxonomy stdlib.core\n')
        f.write(f'table big = "{os.path.basename(csv)}"\nanchor a ~ table big\nnarrative none\n')
    return [["check", path], ["run", path, "--count", "2", "--out", path + ".jsonl"]]


def write_taxonomy(path, n):
    rng = random.Random(1)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "gu", "ri", "zo", "ba", "fe", "hi"]
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(40000)})
    weights = [1.0 / (i + 1) for i in range(len(vocab))]

    def words(k):
        return " ".join(rng.choices(vocab, weights=weights, k=k))

    tax = path + ".tax"
    per_sub = 93
    subs = max(1, n // (12 * per_sub))
    with open(tax, "w", encoding="utf-8") as f:
        for c in range(12):
            f.write(f"Category {c} | a category\n")
            for s in range(subs):
                f.write(f"  {words(2).title()} {c} {s} | a group\n")
                for leaf in range(per_sub):
                    f.write(f"    {words(3).title()} {leaf} | {words(9)}\n")
                    f.write("      = yes @1 | no @2\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'recipe "scale-taxonomy"\ntaxonomy "{os.path.basename(tax)}"\n')
        f.write("anchor age ~ uniform(20, 60) round\nnarrative none\n")
    return [["run", path, "--count", "2", "--out", path + ".jsonl"]]


def write_repl(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write('anchor note = """\n')
        for i in range(n):
            f.write(f'line {i} of a pasted text, with "quotes" and {{ braces\n')
        f.write('"""\n:show\n')
    return [["repl", "<" + path]]


INPUTS = [
    ("anchors", 40000, write_anchors),
    ("csv", 200000, write_csv),
    ("taxonomy", 100000, write_taxonomy),
    ("repl", 40000, write_repl),
]


def run(binary, args, cwd):
    stdin = None
    if args and args[-1].startswith("<"):
        stdin = open(args[-1][1:], "rb")
        args = args[:-1]
    start = time.perf_counter()
    p = subprocess.run([binary] + args, cwd=cwd, stdin=stdin, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if stdin:
        stdin.close()
    if p.returncode != 0:
        sys.stderr.write(f"FAILED ({p.returncode}): persona {' '.join(args)}\n{p.stderr.decode()[-2000:]}\n")
        return None
    return elapsed


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    work = sys.argv[2]
    quick = "--quick" in sys.argv[3:]
    os.makedirs(work, exist_ok=True)
    failed = False
    print(f"{'input':<9} {'command':<7} {'n/4':>9} {'n/2':>9} {'n':>9}  {'s(n/4)':>7} {'s(n/2)':>7} {'s(n)':>7}  exponent")
    for name, full, writer in INPUTS:
        n = full // 20 if quick else full
        sizes = [n // 4, n // 2, n]
        times = {}
        for size in sizes:
            commands = writer(os.path.join(work, f"{name}-{size}.persona"), size)
            for args in commands:
                t = run(binary, args, work)
                if t is None:
                    failed = True
                    t = float("nan")
                times.setdefault(args[0], []).append(t)
        for command, ts in times.items():
            exponent = math.log(ts[2] / ts[1], 2) if ts[1] > 0 and not math.isnan(ts[1] + ts[2]) else float("nan")
            print(f"{name:<9} {command:<7} {sizes[0]:>9,} {sizes[1]:>9,} {sizes[2]:>9,}  "
                  f"{ts[0]:>7.2f} {ts[1]:>7.2f} {ts[2]:>7.2f}  {exponent:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
