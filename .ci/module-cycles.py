#!/usr/bin/env python3
"""Fails when the modules of src/ import each other in a cycle.

Two levels are checked: the top-level modules of the crate (`src/x.rs` or `src/x/`), and the files inside each
folder (`src/x/a.rs`, `src/x/b/`). An edge is a `crate::…` or `super::…` path in code (comments, doc comments and
`#[cfg(test)] mod tests` blocks at the end of a file are not read: tests may reach anywhere). `--graph` prints
the edges.
"""
import os, re, sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

def modpath(path):
    rel = os.path.relpath(path, SRC)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    return rel  # ["layer", "state"], ["lib"] for lib.rs

def code_of(text):
    m = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod \w+\s*[{;]", text, re.M)
    if m and "{" in text[m.start():m.end()]:
        text = text[:m.start()]
    out = []
    for line in text.splitlines():
        s = line.lstrip()
        if s.startswith("//"):
            continue
        out.append(re.sub(r'"(?:[^"\\]|\\.)*"', '""', line.split("//")[0] if "://" not in line else line))
    return "\n".join(out)

def paths(code):
    """Every path a `crate::` / `super::` prefix starts, with brace groups expanded one level."""
    res = []
    for m in re.finditer(r"\b(crate|super)((?:::super)*)::", code):
        base, supers = m.group(1), m.group(2).count("super")
        i = m.end()
        res.extend((base, supers, p) for p in expand(code, i))
    return res

def expand(code, i):
    if i < len(code) and code[i] == "{":
        depth, j, start, items = 1, i + 1, i + 1, []
        while j < len(code) and depth:
            c = code[j]
            if c == "{": depth += 1
            elif c == "}": depth -= 1
            if (c == "," and depth == 1) or depth == 0:
                items.append(code[start:j].strip()); start = j + 1
            j += 1
        out = []
        for it in items:
            head = re.match(r"[\w:]*", it).group(0).rstrip(":")
            if head:
                rest = it[len(head):].lstrip(":").strip()
                if rest.startswith("{"):
                    out.extend(head + "::" + p for p in expand(rest, 0))
                else:
                    out.append(head)
        return out
    m = re.match(r"[\w]+(?:::[\w]+)*", code[i:])
    return [m.group(0)] if m else []

def root_reexports():
    """`crate::Name` for a name lib.rs re-exports (`pub use layer::BotanuLayer;`) is an edge to its module."""
    code = code_of(open(os.path.join(SRC, "lib.rs"), encoding="utf-8").read())
    out = {}
    for m in re.finditer(r"\bpub(?:\(crate\))? use (\w+)::", code):
        for p in expand(code, m.end()):
            out[p.split("::")[-1].split(" as ")[-1].strip()] = [m.group(1)] + p.split("::")[:-1]
    return out

def main():
    mods, edges = set(), {}
    reexports = root_reexports()
    for root, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith(".rs"):
                continue
            p = os.path.join(root, f)
            mp = modpath(p)
            if mp[-1] in ("tests",) or mp[-1].endswith("_tests") or "tests" in mp[:-1]:
                continue
            code = code_of(open(p, encoding="utf-8").read())
            is_mod_file = f == "mod.rs" or f == "lib.rs"
            for base, supers, path in paths(code):
                parts = path.split("::")
                if base == "crate":
                    target = reexports.get(parts[0], [parts[0]]) + parts[1:] if parts[0] in reexports else parts
                else:
                    here = mp if is_mod_file else mp[:-1]
                    up = supers  # extra supers
                    parent = here[: len(here) - up] if up else here
                    if is_mod_file:
                        parent = here[: len(here) - 1 - up]
                    target = parent + parts
                add(edges, mp, target)
    cycles = 0
    for level, graph in levels(edges).items():
        for cyc in find_cycles(graph):
            cycles += 1
            print(f"cycle in {level}: " + ", ".join(cyc) + " import each other")
    if "--graph" in sys.argv:
        for level, graph in sorted(levels(edges).items()):
            for a in sorted(graph):
                for b in sorted(graph[a]):
                    print(f"{level}: {a} -> {b}")
    if cycles:
        print(f"{cycles} module cycle(s)")
        sys.exit(1)
    print("module graph: no cycles")

def add(edges, src, dst):
    edges.setdefault((tuple(src), tuple(dst)), True)

def levels(edges):
    out = {}
    for (src, dst) in edges:
        if src == ("lib",):
            continue
        if src[0] != dst[0]:
            if not (os.path.exists(os.path.join(SRC, dst[0] + ".rs")) or os.path.isdir(os.path.join(SRC, dst[0]))):
                continue  # a macro's `$crate::item` or a name the crate root defines itself
            out.setdefault("src/", {}).setdefault(src[0], set()).add(dst[0])
        else:
            # inside folder src[0] (one level): compare the second component
            a = src[1] if len(src) > 1 else None
            b = dst[1] if len(dst) > 1 else None
            if a and b and a != b and os.path.exists(os.path.join(SRC, src[0])):
                if is_module(src[0], b):
                    out.setdefault(f"src/{src[0]}/", {}).setdefault(a, set()).add(b)
    return out

def is_module(folder, name):
    return os.path.exists(os.path.join(SRC, folder, name + ".rs")) or os.path.isdir(os.path.join(SRC, folder, name))

def find_cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    def strong(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1:
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            strong(v)
    return out

if __name__ == "__main__":
    main()
