#!/usr/bin/env python3
"""The HTML report renders in headless Chromium: a non-blank screenshot and the expected titles in the DOM.

Generates 50 quickstart personas and a `persona survey` of 50 example personas (random mode, offline),
writes `persona report` for both (the survey with --survey) next to the test's output folder,
opens the page in headless Chromium (no network: the page is self-contained), saves the screenshot as
WORK_DIR/report.png and the DOM as WORK_DIR/report.dom.html, and checks that the image is not blank
(decoded here with zlib: many distinct colours, a good share of non-white pixels) and that every
section title, the file name and chart markup are in the DOM.

usage: check_report_chromium.py PERSONA_BIN SOURCE_DIR WORK_DIR
Exit 77 (reported by CTest as skipped, never as passed) when no Chromium is installed.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TITLES = ["Summary", "Attributes per persona", "Narrative length", "Category coverage", "Tier mix",
          "Anchors against their tables", "Contradictions, filler and repeats", "Similarity between personas",
          "Privacy", "Manifest", "Survey"]


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 0xFF
            elif ftype == 2:
                line[x] = (line[x] + b) & 0xFF
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    persona, source, work = sys.argv[1], sys.argv[2], sys.argv[3]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("chromium is not installed (bash .ci/setup installs it): skipped")
        return 77
    os.makedirs(work, exist_ok=True)
    jsonl = os.path.join(work, "q50.jsonl")
    html = os.path.join(work, "report.html")
    png = os.path.join(work, "report.png")
    dom_file = os.path.join(work, "report.dom.html")
    subprocess.run([persona, "run", "examples/quickstart.persona", "-n", "50", "-o", jsonl, "-q"], cwd=source,
                   check=True)
    uk = os.path.join(work, "uk50.jsonl")
    survey = os.path.join(work, "survey")
    subprocess.run([persona, "run", "examples/survey/uk-adults.persona", "-n", "50", "-o", uk, "-q"], cwd=source,
                   check=True)
    subprocess.run([persona, "survey", uk, "--questions", "examples/survey/questionnaire.toml", "--targets",
                    "examples/survey/targets.csv", "--mode", "random", "--bootstrap", "50", "-o", survey, "-q"],
                   cwd=source, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([persona, "report", jsonl, "--recipe", "examples/quickstart.persona", "--survey", survey, "-o",
                    html], cwd=source, check=True)
    url = "file://" + os.path.abspath(html)
    failures = []
    with tempfile.TemporaryDirectory() as profile:
        base = [browser] + FLAGS + ["--user-data-dir=" + profile]
        if os.path.exists(png):
            os.remove(png)
        shot = subprocess.run(base + ["--window-size=1280,2400", "--screenshot=" + png, url],
                              capture_output=True, text=True, timeout=120)
        dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
    with open(dom_file, "w", encoding="utf-8") as f:
        f.write(dom.stdout)
    if not os.path.exists(png):
        failures.append(f"no screenshot (chromium exit {shot.returncode}): {shot.stderr[-2000:]}")
    else:
        width, height, bpp, rows = png_pixels(png)
        colours, ink, total = set(), 0, 0
        for row in rows[::4]:
            for x in range(0, width * bpp, bpp * 4):
                px = row[x:x + 3]
                colours.add(px)
                total += 1
                ink += px != b"\xff\xff\xff"
        print(f"screenshot {png}: {width}x{height}, {len(colours)} colours, {100 * ink / total:.1f}% non-white")
        if (width, height) != (1280, 2400):
            failures.append(f"screenshot is {width}x{height}, not 1280x2400")
        if len(colours) < 8:
            failures.append(f"the screenshot looks blank: {len(colours)} distinct colours")
        if ink / total < 0.03:
            failures.append(f"the screenshot looks blank: {100 * ink / total:.2f}% non-white pixels")
    text = dom.stdout
    for t in TITLES:
        if f">{t}</h2>" not in text:
            failures.append(f"section title '{t}' is missing from the DOM")
    for needle in ["<svg", "q50.jsonl", "Jensen-Shannon", "recipe hash", "ghq_happy (United Kingdom)",
                   'class="ci"', "noise floor"]:
        if needle not in text:
            failures.append(f"'{needle}' is missing from the DOM")
    print(f"DOM: {len(text)} characters, saved as {dom_file}")
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
