"""Keep the notebooks' conventions: navigation, index, checks, execution.

    python tools/notebooks.py nav       # refresh nav cells and the index
    python tools/notebooks.py check     # report convention breaks (exit 1)
    python tools/notebooks.py execute   # re-run every notebook in place

Each section notebook opens with a title cell (`# 6.x ...`), a sentence
of purpose and the setup cell (`import helpers`, `SEED`, `helpers.setup`),
and carries previous | index | next links at its top and bottom. The links
and the index's table of contents are generated here, never by hand.
"""
import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
NB_DIR = REPO / "notebooks"
INDEX = "00-index.ipynb"
NAV_TAG = "nav"
TOC_TAG = "toc"
SETUP_LINES = ("import helpers", "SEED = ", "DEVICE = helpers.setup(SEED)")


def section_notebooks(nb_dir=NB_DIR):
    """The section notebooks (6.x-*.ipynb) in chapter order."""
    def key(path):
        return [int(n) for n in re.findall(r"\d+", path.name.split("-")[0])]
    return sorted(nb_dir.glob("6.*.ipynb"), key=key)


def has_tag(cell, tag):
    return tag in cell.get("metadata", {}).get("tags", [])


def title_of(nb):
    """The first level-1 heading of a notebook, without the `#`."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not has_tag(cell, NAV_TAG):
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def purpose_of(nb):
    """The sentence of purpose: the title cell's text after the heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not has_tag(cell, NAV_TAG):
            lines = [ln.strip() for ln in cell.source.splitlines()]
            rest = [ln for ln in lines[1:] if ln]
            return rest[0] if rest else None
    return None


def nav_source(prev, nxt):
    """Markdown for one navigation cell: previous | index | next."""
    parts = []
    if prev is not None:
        parts.append(f"[< {prev[1]}]({prev[0]})")
    parts.append(f"[目录 Contents]({INDEX})")
    if nxt is not None:
        parts.append(f"[{nxt[1]} >]({nxt[0]})")
    return " | ".join(parts)


def nav_cell(source, cell_id):
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["tags"] = [NAV_TAG]
    cell["id"] = cell_id  # fixed, so refreshing twice changes nothing
    return cell


def with_nav(nb, source):
    """`nb` with exactly one nav cell at the top and one at the bottom."""
    cells = [c for c in nb.cells if not has_tag(c, NAV_TAG)]
    nb.cells = ([nav_cell(source, "nav-top")] + cells
                + [nav_cell(source, "nav-bottom")])
    return nb


def toc_source(entries):
    """The index's table of contents, one row per section notebook."""
    rows = ["| 小节 Section | 内容 What you do |", "|---|---|"]
    for name, title, purpose in entries:
        rows.append(f"| [{title}]({name}) | {purpose or ''} |")
    return "\n".join(rows)


def refreshed(nb_dir=NB_DIR):
    """{path: notebook} with nav cells and the index's TOC regenerated."""
    paths = section_notebooks(nb_dir)
    nbs = {p: nbformat.read(p, as_version=4) for p in paths}
    titles = [(p.name, title_of(nbs[p]) or p.stem) for p in paths]
    out = {}
    for k, p in enumerate(paths):
        prev = titles[k - 1] if k > 0 else (INDEX, "目录 Contents")
        nxt = titles[k + 1] if k + 1 < len(paths) else None
        if prev[0] == INDEX:
            prev = None
        out[p] = with_nav(nbs[p], nav_source(prev, nxt))
    index = nb_dir / INDEX
    if index.exists():
        nb = nbformat.read(index, as_version=4)
        entries = [(p.name, t, purpose_of(nbs[p]))
                   for p, (_, t) in zip(paths, titles)]
        for cell in nb.cells:
            if has_tag(cell, TOC_TAG):
                cell.source = toc_source(entries)
        first = titles[0] if titles else None
        out[index] = with_nav(nb, nav_source(None, first))
    return out


def write_atomic(path, nb):
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def cmd_nav(args):
    for path, nb in refreshed().items():
        before = path.read_text(encoding="utf-8")
        write_atomic(path, nb)
        if path.read_text(encoding="utf-8") != before:
            print(f"refreshed {path.relative_to(REPO)}")
    return 0


def problems(path, nb):
    """Convention breaks of one notebook, as readable strings."""
    found = []
    cells = [c for c in nb.cells if not has_tag(c, NAV_TAG)]
    if not nb.cells or not has_tag(nb.cells[0], NAV_TAG) \
            or not has_tag(nb.cells[-1], NAV_TAG):
        found.append("no nav cell at the top and bottom "
                     "(run: python tools/notebooks.py nav)")
    if not cells or cells[0].cell_type != "markdown" \
            or not cells[0].source.startswith("# "):
        found.append("the first cell is not a `# title` markdown cell")
    elif not purpose_of(nb):
        found.append("the title cell has no sentence of purpose")
    code = [c for c in cells if c.cell_type == "code" and c.source.strip()]
    if not code or not all(s in code[0].source for s in SETUP_LINES):
        found.append("the first code cell is not the setup cell "
                     f"({'; '.join(SETUP_LINES)})")
    for k, c in enumerate(code):
        if c.get("execution_count") is None:
            found.append(f"code cell {k} was never executed")
        if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            found.append(f"code cell {k} stores an error")
    return found


def cmd_check(args):
    bad = 0
    fresh = refreshed()
    for path in [NB_DIR / INDEX] + section_notebooks():
        if not path.exists():
            print(f"{path.relative_to(REPO)}: missing")
            bad += 1
            continue
        nb = nbformat.read(path, as_version=4)
        found = problems(path, nb)
        if nbformat.writes(fresh[path]) != nbformat.writes(nb):
            found.append("nav or table of contents out of date "
                         "(run: python tools/notebooks.py nav)")
        for p in found:
            print(f"{path.relative_to(REPO)}: {p}")
        bad += bool(found)
    return 1 if bad else 0


def cmd_execute(args):
    env = dict(os.environ, COURSE_QUICK="1")
    targets = [Path(p).resolve() for p in args.notebooks] or (
        [NB_DIR / INDEX] + section_notebooks())
    cmd_nav(args)
    for path in targets:
        print(f"executing {path.relative_to(REPO)} ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "jupyter", "nbconvert", "--to",
             "notebook", "--execute", "--inplace",
             "--ExecutePreprocessor.timeout=1200", str(path)],
            check=True, env=env, cwd=path.parent)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("nav", help="refresh nav cells and the index")
    sub.add_parser("check", help="report convention breaks")
    ex = sub.add_parser("execute", help="re-run notebooks in place")
    ex.add_argument("notebooks", nargs="*",
                    help="notebooks to run (default: all)")
    args = parser.parse_args(argv)
    return {"nav": cmd_nav, "check": cmd_check,
            "execute": cmd_execute}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
