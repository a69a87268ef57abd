#!/usr/bin/env python3
"""Lists botanu's public API from the rustdoc HTML (`cargo doc --no-deps --all-features` first): one line per
item page (`struct botanu::Builder`) and per inherent method, field, variant and associated item on it
(`method botanu::Builder::build`). Trait implementations are left out (derived `Debug`, `Clone`… add noise,
and a removed impl fails the build of whoever used it anyway). `public-api.txt` at the root is this output,
checked in: `.ci/run` fails when the surface changes and the file was not updated, so a change to the surface
is visible in review. Usage: public-api.py [DOC_DIR]  (default target/doc/botanu)."""
import os, re, sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "doc", "botanu")
KINDS = ("struct", "enum", "trait", "fn", "constant", "static", "type", "macro", "union", "derive", "attr", "traitalias")
MEMBER = re.compile(r'id="(method|tymethod|structfield|variant|associatedconstant|associatedtype|field)\.([A-Za-z0-9_]+)"')
out = set()
for dirpath, _, files in os.walk(root):
    rel = os.path.relpath(dirpath, os.path.dirname(root))
    path = rel.replace(os.sep, "::")
    for f in files:
        if not f.endswith(".html"):
            continue
        if f == "index.html":
            out.add(f"mod {path}")
            continue
        kind, _, rest = f[:-5].partition(".")
        if kind not in KINDS:
            continue
        text = open(os.path.join(dirpath, f), encoding="utf-8").read()
        if 'http-equiv="refresh"' in text:
            continue  # a redirect page (a macro's or re-export's second URL)
        name = f"{path}::{rest}"
        out.add(f"{kind} {name}")
        # Only the item's own members: stop where the trait implementations begin.
        own = re.split(r'id="(?:trait-implementations|synthetic-implementations|blanket-implementations|implementors)"', text)[0]
        for member, ident in MEMBER.findall(own):
            member = {"tymethod": "method", "field": "structfield"}.get(member, member)
            out.add(f"{member} {name}::{ident}")
for line in sorted(out):
    print(line)
