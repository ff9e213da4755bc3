#!/usr/bin/env python3
"""Builds the health dictionaries of the `medication` and `diagnosis` detectors.

Needs: Python 3 (standard library only), the two PyPI wheels below (downloaded
with `pip download --no-deps`, not installed: nothing of theirs is imported or
run), `/usr/share/dict/words` (Debian `wamerican`) and some ordinary prose.

    pip download --no-deps simple-icd-10-cm==1.5.0 drug-named-entity-recognition==2.0.9 -d /tmp/wheels
    python3 enforcer/data/health/build_terms.py \\
        --icd /tmp/wheels/simple_icd_10_cm-1.5.0-py3-none-any.whl \\
        --drugs /tmp/wheels/drug_named_entity_recognition-2.0.9-py3-none-any.whl \\
        --prose /usr/share/doc --prose target/bench-corpora/prose-1.txt \\
        --out enforcer/data/health

Writes `diagnoses.tsv.gz` and `medications.tsv.gz` (`term<TAB>category`, one
term a line, lower-case, sorted) and `dropped.txt` (every term removed as
ambiguous, with the evidence). See README.md beside this file.
"""

import argparse
import bz2
import gzip
import io
import os
import pickle
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter, defaultdict

# ICD-10-CM chapters kept: 1-17 (diseases). Left out: 18 (symptoms and signs:
# "cough", "fever", "headache" are everyday words and not a diagnosis), 19
# (injuries and poisonings: long anatomical descriptions), 20 (external
# causes: "pedestrian injured in collision with..."), 21 (Z codes: encounters,
# "personal history of..."), 22 (special purposes).
KEEP_CHAPTERS = set(range(1, 18))

# Words that make a description a coding instruction rather than a condition name.
CODING_WORDS = {
    "other", "unspecified", "nos", "classified", "elsewhere", "specified",
    "encounter", "sequela", "subsequent", "initial", "site", "sites",
    "part", "parts", "region", "certain", "status", "personal", "family",
    "history", "category", "code", "codes", "unknown", "undetermined", "and",
    "or", "stage", "episode", "left", "right", "bilateral", "multiple", "single",
}
# Words that name a kind of condition, not one: as a whole term they say
# nothing about a patient ("risks include bleeding and infection").
GENERIC = {
    "infection", "infections", "disease", "diseases", "disorder", "disorders",
    "syndrome", "injury", "lesion", "lesions", "mass", "complication",
    "complications", "condition", "conditions", "illness",
}
# Leading modifiers a clinician often leaves out ("chronic viral hepatitis C"
# is written "hepatitis C").
MODIFIERS = ("acute ", "chronic ", "viral ", "unspecified ")
# Phrases a condition name ends before.
CUT = re.compile(
    r",|;|:| with | without | due to | in diseases | in conditions | complicating | "
    r"following | associated with | not elsewhere | of unspecified | of other | "
    r"except | excluding | in remission| not in remission| and "
)
TERM_OK = re.compile(r"^[a-z0-9][a-z0-9' -]*[a-z0-9]$")


def norm(s):
    s = s.lower().replace("\u2019", "'")
    s = re.sub(r"\([^)]*\)", " ", s)  # parenthesised modifiers
    s = re.sub(r"\[[^]]*\]", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def condition_names(text):
    """Condition names in an ICD-10-CM description or inclusion term, each
    with whether it is the whole name (not a fragment of an enumeration such
    as "Cardiac, heart or myocardial failure" or of "Uterus with only one
    functioning horn")."""
    s = norm(text)
    if s.endswith(" nos"):
        s = s[: -len(" nos")]
    head = CUT.split(" " + s + " ")[0].strip()
    rest = s[len(head):].strip()
    whole = rest == "" or rest.startswith(", unspecified")
    out = []
    if head:
        out.append((head, whole))
        # "type 2 diabetes mellitus" is also written "type 2 diabetes".
        if head.endswith(" mellitus"):
            out.append((head[: -len(" mellitus")], whole))
        shorter = head
        while shorter.startswith(MODIFIERS):
            shorter = shorter.split(" ", 1)[1]
            # ("acute lower" is not "lower": a one-word rest is no name.)
            out.append((shorter, False))
    # "gastro-esophageal" is also written "gastroesophageal".
    out += [(t.replace("-", ""), w) for t, w in out if re.search(r"[a-z]-[a-z]", t)]
    return out


def acceptable(term, max_words):
    words = term.split(" ")
    if not TERM_OK.match(term) or len(words) > max_words:
        return False
    if len(words) == 1 and len(term) < 5:
        return False
    return True


def diagnoses(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".xml") and "tabular" in n)
        root = ET.fromstring(z.read(name))
    # Each chapter's code range, to place a code named in a note.
    ranges = []
    for chapter in root.findall("chapter"):
        for section in chapter.findall("section"):
            lo, _, hi = section.get("id").partition("-")
            ranges.append((lo, hi or lo, int(chapter.findtext("name"))))

    def chapter_of(code):
        code = code[:3]
        for lo, hi, num in ranges:
            if lo <= code <= hi:
                return num
        return None

    terms = {}
    notes = []
    for chapter in root.findall("chapter"):
        num = int(chapter.findtext("name"))
        for diag in chapter.iter("diag"):
            texts = [diag.findtext("desc") or ""]
            for tag in ("inclusionTerm", "includes"):
                for inc in diag.findall(tag):
                    texts += [n.text or "" for n in inc.findall("note")]
            # Excludes notes name conditions coded elsewhere, with the
            # code: "hepatitis C (B17.1-, B18.2)".
            for tag in ("excludes1", "excludes2"):
                for exc in diag.findall(tag):
                    for n in exc.findall("note"):
                        m = re.search(r"\(([A-Z][0-9][0-9A-Z])", n.text or "")
                        if m:
                            notes.append((n.text, chapter_of(m.group(1))))
            for text in texts:
                add_names(terms, text, num)
    # Names from excludes notes last: a name's own code decides its chapter.
    for text, num in notes:
        if num is not None:
            add_names(terms, text, num, whole_words=False)
    return {t: c for t, c in terms.items() if int(c) in KEEP_CHAPTERS}


def add_names(terms, text, num, whole_words=True):
    """Adds the names in `text`; one-word names only when they are the
    whole text and `whole_words` (not from an excludes note, which often
    names a body part: "teeth (K00-K08)")."""
    for term, whole in condition_names(text):
        words = term.split(" ")
        # A one-word fragment ("cardiac", "newborn") is no name.
        if len(words) == 1 and not (whole and whole_words):
            continue
        if any(w in CODING_WORDS for w in words) or term in GENERIC:
            continue
        if not acceptable(term, 6):
            continue
        terms.setdefault(term, str(num))


class Restricted(pickle.Unpickler):
    """Loads plain containers only: no class of the pickle is ever built."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refusing {module}.{name}")


def medications(wheel):
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".pkl.bz2"))
        data = Restricted(io.BytesIO(bz2.decompress(z.read(name)))).load()
    variants = data["drug_variant_to_canonical"]
    canon = data["drug_canonical_to_data"]
    vdata = data["drug_variant_to_variant_data"]
    terms = {}
    for variant, canonicals in variants.items():
        # Only medicines the package links to a MedlinePlus drug page or an
        # NHS medicine page (marketed medicines, about 1,560): its other
        # entries are MeSH chemicals, proteins and enzymes ("uric acid",
        # "alpha amylase"), not what a prescription names.
        if not any(
            "medline_plus_id" in canon.get(c, {}) or "nhs_url" in canon.get(c, {})
            for c in canonicals
        ):
            continue
        term = norm(variant)
        if not acceptable(term, 4) or term[0].isdigit():
            continue
        # The generic name is the entry's own name; the package flags some
        # other names as brands; the rest are other names (brands it does
        # not flag, foreign spellings: "paracetamol", "ozempic").
        if any(term == norm(c) for c in canonicals):
            kind = "generic"
        elif vdata.get(variant, {}).get("is_brand", False):
            kind = "brand"
        else:
            kind = "other"
        terms.setdefault(term, kind)
    return terms


def prose_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for d, _, fs in os.walk(p):
                for f in sorted(fs):
                    yield os.path.join(d, f)
        else:
            yield p


def read_prose(path):
    try:
        if os.path.getsize(path) > 4 << 20:
            return None
        raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    except (OSError, EOFError):
        return None
    if b"\0" in raw[:4096]:
        return None
    return raw.decode("utf-8", "replace").lower()


def prose_counts(paths, terms, max_words):
    """Per term: documents of the prose corpus it occurs in, and total bytes read."""
    docs = Counter()
    total = 0
    ndocs = 0
    for path in prose_files(paths):
        text = read_prose(path)
        if not text:
            continue
        total += len(text)
        ndocs += 1
        words = re.findall(r"[a-z0-9]+(?:['-][a-z0-9]+)*", text)
        seen = set()
        for i in range(len(words)):
            for n in range(1, max_words + 1):
                if i + n > len(words):
                    break
                g = " ".join(words[i : i + n])
                if g in terms:
                    seen.add(g)
        docs.update(seen)
    return docs, total, ndocs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--icd", required=True)
    ap.add_argument("--drugs", required=True)
    ap.add_argument("--prose", action="append", default=[])
    ap.add_argument("--dict", default="/usr/share/dict/words")
    ap.add_argument("--min-share", type=float, default=0.001,
                    help="a term in this share of the prose documents or more (and in 3 at least) is ambiguous")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    dx = diagnoses(a.icd)
    rx = medications(a.drugs)
    # A term in both lists is a medication (drug names in ICD-10-CM are
    # poisonings, left out above).
    for t in list(dx):
        if t in rx:
            del dx[t]
    english = set()
    with open(a.dict, encoding="utf-8", errors="replace") as f:
        for w in f:
            w = w.strip()
            if w and w[0].islower() and "'" not in w:
                english.add(w)
    docs, total, ndocs = prose_counts(a.prose, set(dx) | set(rx), 6)
    min_docs = max(3, round(a.min_share * ndocs))
    dropped = []
    for kind, terms in (("diagnosis", dx), ("medication", rx)):
        for t in sorted(terms):
            n = docs.get(t, 0)
            reason = None
            if n >= min_docs:
                reason = f"in {n} of {ndocs} ordinary prose documents"
            elif kind == "medication" and terms[t] == "brand" and t in english:
                reason = "brand name that is an English dictionary word"
            if reason:
                dropped.append(f"{kind}\t{t}\t{reason}")
                del terms[t]
    os.makedirs(a.out, exist_ok=True)
    for name, terms in (("diagnoses", dx), ("medications", rx)):
        body = "".join(f"{t}\t{terms[t]}\n" for t in sorted(terms)).encode()
        # mtime 0: the same input gives the same bytes.
        with open(os.path.join(a.out, f"{name}.tsv.gz"), "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", compresslevel=9, mtime=0) as g:
                g.write(body)
        print(f"{name}: {len(terms)} terms, {len(body)} bytes", file=sys.stderr)
    with open(os.path.join(a.out, "dropped.txt"), "w") as f:
        f.write(f"# {len(dropped)} terms dropped; prose corpus: {ndocs} documents, {total} bytes;"
                f" a term in {min_docs} or more is dropped\n")
        f.write("\n".join(dropped) + "\n")
    print(f"dropped {len(dropped)}; prose {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
