#!/usr/bin/env bash
# Before/after timing of two logitgd checkouts on the same machine, runs interleaved.
#
#   benchmarks/compare_trees.sh BASE_ROOT NEW_ROOT OUTDIR
#   e.g. (venv active): benchmarks/compare_trees.sh /work/base /work/wt-bench-layout /tmp/cmp
#   DRY_RUN=1 benchmarks/compare_trees.sh BASE_ROOT NEW_ROOT OUTDIR           # print the commands, run none
#   SIDE_BY_SIDE_ONLY=1 benchmarks/compare_trees.sh BASE_ROOT NEW_ROOT OUTDIR # reprint the tables of OUTDIR
#
# BASE_ROOT / NEW_ROOT are checkout roots, each with its src/ (the `logitgd` package) and its
# benchmarks/. Each tree runs its OWN bench_core and bench_solvers, from its root, with
# PYTHONPATH=ROOT/src, the way its layout runs them:
#
#   ROOT/benchmarks/__init__.py exists (benchmarks as a package, shared helpers in benchmarks/common/):
#       cd ROOT && PYTHONPATH=ROOT/src python -m benchmarks.bench_core ...
#   else (the older layout, scripts that put their own directory on sys.path for their helpers):
#       cd ROOT && PYTHONPATH=ROOT/src python benchmarks/bench_core.py ...
#
# So the scripts always match the library they import (a tree whose scripts cannot import its own
# logitgd fails on its own; its runs are marked FAILED and the rest goes on). Point the roots at fixed
# snapshots (a worktree at a commit, or `git archive COMMIT src benchmarks | tar -x -C DIR`), not at a
# tree being edited meanwhile (on 2026-12-01 the live /work/main tree, with uncommitted edits, failed
# bench_core in rows.py while its HEAD 65ec62f ran). Per tree and round it runs
#
#   bench_core    --rows $CORE_ROWS --repeats $CORE_REPEATS --fit-runs $FIT_RUNS --no-variants --no-quiet-wait
#       -> "One gradient" vs the floor (float64 and float32) and "Full fit" vs scikit-learn (+ breakdown)
#   bench_solvers --datasets real,dense --rows $SOLVERS_ROWS --budget $SOLVERS_BUDGET
#                 --real-budget $REAL_BUDGET --real-repeats $REAL_REPEATS --solvers logitgd
#                 --no-mapping-check --no-write --no-quiet-wait
#       -> the `real` and `dense` problems (l2 and l1), logitgd's solvers
#
# ROUNDS times, each benchmark alternating between the trees (round 1: base then new; round 2:
# new then base, ...; ORDER=abab for base first in every round), every output saved in OUTDIR,
# then both trees' tables side by side (OUTDIR/side_by_side.md). Measured on the shared 2-core VM
# (load average 2-4 from other users), base against itself: warm-up ~1 min; bench_core at 500,000
# rows 40-136 s per run; bench_solvers 91-188 s per run. With ROUNDS=2 (8 runs) that is about
# 13-17 minutes; ROUNDS=1 about half. Single timings moved by up to 4x between runs of the same
# tree on that host (see side_by_side.md's note): read new/base against the spread of one tree.
#
# Knobs (environment), defaults chosen to fit ~15 minutes on the loaded 2-core host:
#   PYTHON=python          interpreter (the venv's)
#   ROUNDS=2               runs of each benchmark per tree
#   CORE_ROWS=500000       bench_core rows. Its default and RESULTS.md's tables are 1,000,000: that took
#                          110-170 s per run here (vs ~1 min on a quiet machine), +~4 min in all
#   CORE_REPEATS=7         bench_core timed rounds per case (its minimum; default 15)
#   FIT_RUNS=2             bench_core runs per reported fit (RESULTS.md used 2; default 3)
#   CORE_FLOAT32=1         0: --no-float32 (skip the float32 gradient table)
#   SOLVERS_ROWS=100000    rows of `dense` (default 1,000,000, where logitgd's sgd alone takes ~2 min)
#   SOLVERS_BUDGET=20      seconds per solver fit on `dense` (default 120; --quick's value). sgd uses all of
#                          it (it does not reach 1e-6 here); 10 s was too tight: under load gd/newton
#                          fits that take 1-3 s ran into it and turned into "did not reach"
#   REAL_BUDGET=5          seconds per solver on `real` (default 10): caps sgd, which does not reach l2's target
#   REAL_REPEATS=5         timed fits per solver on `real` (its default)
#   COMPETITORS=0          1: also time scikit-learn/glum in bench_solvers (they do not change between trees)
#   QUIET_WAIT=0           1: keep the scripts' wait for an idle machine before each timed call (up to 5 s
#                          per call: on a busy host that alone can add >10 minutes per bench_core run)
#   ORDER=abba             abab: base first in every round
#   DRY_RUN=0              1: check which logitgd each tree imports, print every command, run none
#                          (nothing is written to OUTDIR)
#   LOGITGD_NUMBA_CACHE    passed through; 0 = kernels compiled in each process (see RESULTS.md)
#
# numba's cache goes to OUTDIR/numba-cache, not into the trees, and no .pyc files are written
# (PYTHONDONTWRITEBYTECODE=1); bench_solvers runs with --no-write. Before the timed runs each tree fits
# once on data of 1e6 entries, so every timed run loads its kernels from that cache, as a user's
# second process would (RESULTS.md: a kernel loaded from the cache runs ~25 % slower than one compiled
# in-process; mixing the two would move the numbers between rounds).
#
# Imports. PYTHONPATH (ROOT/src) comes before the virtualenv's editable install (a .pth entry for
# another tree), and neither the root nor its benchmarks/ holds a `logitgd`; this script checks, with
# the sys.path each layout's scripts get, that logitgd resolves inside ROOT/src (and, for the package
# layout, `benchmarks` inside ROOT) before it times anything: a mistyped root would otherwise silently
# import the editable install. bench_core also uses logitgd's internals (the numba kernel module, the
# objective's methods for its breakdown table), each tree's scripts those of their own tree; the
# breakdown's rows are matched across trees whether they name LogisticObjective (older trees) or
# LinearObjective (newer). bench_solvers uses the public API only; its report's "at commit" is the
# tested tree's HEAD, and it fits sgd without a random_state (sgd rows differ from run to run, also
# for one tree).
set -uo pipefail

if [ $# -ne 3 ]; then
    sed -n '2,7p' "$0" >&2
    exit 2
fi
abspath() { (cd "$1" 2>/dev/null && pwd -P) || { echo "no such directory: $1" >&2; return 2; }; }
BASE_ROOT=$(abspath "$1") || exit 2
NEW_ROOT=$(abspath "$2") || exit 2
DRY_RUN=${DRY_RUN:-0}
if [ "$DRY_RUN" = 1 ]; then
    OUT=$(realpath -m "$3") || exit 2
else
    mkdir -p "$3" || exit 2
    OUT=$(abspath "$3") || exit 2
fi

PYTHON=${PYTHON:-python}
ROUNDS=${ROUNDS:-2}
CORE_ROWS=${CORE_ROWS:-500000}
CORE_REPEATS=${CORE_REPEATS:-7}
FIT_RUNS=${FIT_RUNS:-2}
CORE_FLOAT32=${CORE_FLOAT32:-1}
SOLVERS_ROWS=${SOLVERS_ROWS:-100000}
SOLVERS_BUDGET=${SOLVERS_BUDGET:-20}
REAL_BUDGET=${REAL_BUDGET:-5}
REAL_REPEATS=${REAL_REPEATS:-5}
COMPETITORS=${COMPETITORS:-0}
QUIET_WAIT=${QUIET_WAIT:-0}
ORDER=${ORDER:-abba}

# -- the side-by-side tables, from OUTDIR's outputs ------------------------------------------------
side_by_side() {
"$PYTHON" - "$OUT" <<'PYEOF' | tee "$OUT/side_by_side.md"
import glob, os, re, sys

out = sys.argv[1]
NUM = re.compile(r"\d+(\.\d+)?(e[-+]?\d+)?")
OBJ = re.compile(r"`(Linear|Logistic)Objective\.")


def tables(path):
    """[(heading, header, {row key: (label, {column: cell})})] for every Markdown table in a file."""
    res, heading, cur = [], None, None
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return res
    for line in lines:
        if line.startswith("#"):
            heading, cur = line.lstrip("#").strip(), None
            continue
        if not line.startswith("|"):
            cur = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cur is None:
            cur = (heading, cells, {})
            res.append(cur)
        elif set(line.strip()) <= set("|-: "):
            continue
        else:
            hdr = cur[1]
            dtype = f" [{cells[hdr.index('dtype')]}]" if "dtype" in hdr else ""
            # rows are matched across runs by their label without its numbers (the floor row names
            # the measured bandwidth, sklearn's row the max_iter it found), plus the dtype column
            # bench_core's breakdown names the class it wraps: LogisticObjective in the older trees,
            # LinearObjective (the class the estimator builds since the restructure) in the newer ones
            key = OBJ.sub("`Objective.", NUM.sub("#", cells[0])) + dtype
            cur[2][key] = (cells[0] + dtype, dict(zip(hdr, cells)))
    return res


def num(s):
    m = re.match(r"^\**\s*(-?[0-9.]+(?:e[-+]?\d+)?)", s or "")
    return float(m.group(1)) if m else None


# (heading pattern, first column, value column, higher is better, columns shown, columns that must agree)
WANT = {
    "core": [(r"^1\. Read bandwidth", "method", "best GB/s", True, [], []),
             (r"^1\. One gradient", "case", "best ms", False, ["best / floor"], []),
             (r"^2\. Full fit", "run", "wall s (best)", False, [], ["iterations", "final J"]),
             (r"^2\. Full fit", "part", "total ms", False, ["calls"], [])],
    "solvers": [(r"^`(real|dense)`", "solver", "time to target, s", False, ["reached 1e-6"],
                 ["iterations", "final J"])],
}
runs = {}
for path in sorted(glob.glob(os.path.join(out, "*_r*.md"))):
    m = re.match(r"(core|solvers)_(base|new)_r(\d+)\.md$", os.path.basename(path))
    if m:
        runs.setdefault(m.group(1), {})[(m.group(2), int(m.group(3)))] = tables(path)
for bench in ("core", "solvers"):
    got = runs.get(bench, {})
    if not got:
        print(f"\n# {bench}: no output in {out}")
        continue
    keys = sorted(got, key=lambda k: (k[0] != "base", k[1]))
    nb = sum(k[0] == "base" for k in keys)
    print(f"\n# {'bench_core.py' if bench == 'core' else 'bench_solvers.py'}: one value per run "
          f"(base: {nb} runs, new: {len(keys) - nb} runs, in round order); "
          f"new/base = best run of new / best run of base\n")
    seen = []
    for tabs in got.values():
        for h, hdr, _ in tabs:
            if (h, hdr[0]) not in seen:
                seen.append((h, hdr[0]))
    for pat, first, col, higher, show, agree in WANT[bench]:
        for h, f0 in seen:
            if f0 != first or not re.search(pat, h or ""):
                continue
            per_run, order = {}, []
            for k in keys:
                for hh, hdr, body in got[k]:
                    if hh == h and hdr[0] == first:
                        per_run[k] = body
                        order += [r for r in body if r not in order]
            print(f"## {h}\n")
            print(f"| {first} | base: {col} | new: {col} | new/base | "
                  + "".join(f"{c} (base / new) | " for c in show + agree))
            print("|---|---|---|---:|" + "---|" * len(show + agree))
            for r in order:
                have = [k for k in keys if k in per_run and r in per_run[k]]
                label = per_run[have[0]][r][0]
                cell = lambda k, c: per_run[k][r][1].get(c) if k in have else None  # noqa: E731
                vals = {t: [cell(k, col) for k in keys if k[0] == t] for t in ("base", "new")}
                best = {}
                for t, v in vals.items():
                    xs = [num(x) for x in v if num(x) is not None]
                    best[t] = (max(xs) if higher else min(xs)) if xs else None
                ratio = f"{best['new'] / best['base']:.2f}" if best["base"] and best["new"] is not None else "—"
                # sgd has no random_state in bench_solvers, and a fit cut by the budget stops anywhere
                loose = "sgd" in label or any("did not reach" in (cell(k, "reached 1e-6") or "") for k in have)
                cells = []
                for c in show + agree:
                    v = {t: [cell(k, c) or "" for k in have if k[0] == t] for t in ("base", "new")}
                    if c in agree and not loose and len(set(v["base"] + v["new"])) <= 1:
                        cells.append("same")
                    else:
                        flag = " **differ**" if c in agree and not loose else ""
                        cells.append(f"{', '.join(v['base'])} / {', '.join(v['new'])}{flag}")
                fmt = lambda v: ", ".join("—" if x is None else x.split(" [")[0] for x in v)  # noqa: E731
                print(f"| {label[:100]} | {fmt(vals['base'])} | {fmt(vals['new'])} | {ratio} | "
                      + "".join(f"{c} | " for c in cells))
            print()
print("Timings on this shared host move by 10-30 % between runs (sometimes 3-4x for one fit): read new/base "
      "against the spread of the runs of one tree. sgd rows in bench_solvers are not reproducible (no "
      "random_state) and mostly stop at the budget: compare their iterations, not their time.")
print(f"Raw outputs: {out}/core_*_r*.md and {out}/solvers_*_r*.md (stderr in .log); commands and wall "
      f"times in {out}/info.txt")
PYEOF
}

if [ "${SIDE_BY_SIDE_ONLY:-0}" = 1 ]; then
    side_by_side
    exit 0
fi

# -- the two trees ---------------------------------------------------------------------------------------
tree_root() { if [ "$1" = base ]; then echo "$BASE_ROOT"; else echo "$NEW_ROOT"; fi; }
# "package" (benchmarks/__init__.py: python -m benchmarks.NAME) or "scripts" (python benchmarks/NAME.py)
layout() { if [ -f "$1/benchmarks/__init__.py" ]; then echo package; else echo scripts; fi; }
for root in "$BASE_ROOT" "$NEW_ROOT"; do
    for f in src/logitgd/__init__.py benchmarks/bench_core.py benchmarks/bench_solvers.py; do
        [ -f "$root/$f" ] || { echo "missing $root/$f (a root holds src/ and benchmarks/)" >&2; exit 2; }
    done
done
INFO="$OUT/info.txt"
if [ "$DRY_RUN" = 1 ]; then
    INFO=/dev/null
else
    export NUMBA_CACHE_DIR="$OUT/numba-cache"
    mkdir -p "$NUMBA_CACHE_DIR"
fi
export PYTHONDONTWRITEBYTECODE=1

# -- which logitgd each tree's scripts import -----------------------------------------------------------
check_tree() {  # name root
    local root=$2 got code
    local -a codes=('import os, logitgd; print(os.path.realpath(logitgd.__file__))')
    if [ "$(layout "$root")" = package ]; then
        # python -m puts the root first on sys.path, as `python -c` run from there does
        codes+=("import os, benchmarks.common, logitgd
b = os.path.realpath(os.path.dirname(benchmarks.__file__))
assert b == os.path.realpath('$root/benchmarks'), 'benchmarks imported from ' + b
print(os.path.realpath(logitgd.__file__))")
    else
        # a script there has its own directory first on sys.path (and imports its helpers from it)
        codes+=("import os, sys; sys.path.insert(0, '$root/benchmarks'); import _quiet, logitgd; print(os.path.realpath(logitgd.__file__))")
    fi
    for code in "${codes[@]}"; do
        got=$(cd "$root" && PYTHONPATH="$root/src" "$PYTHON" -c "$code") \
            || { echo "$1: the import check failed in $root with PYTHONPATH=$root/src" >&2; exit 2; }
        case "$got" in
            "$root"/src/logitgd/*) ;;
            *) echo "$1: PYTHONPATH=$root/src imports logitgd from $got, not from that tree" >&2; exit 2 ;;
        esac
    done
    echo "$1: logitgd from $got; benchmarks layout: $(layout "$root")" | tee -a "$INFO"
}
tree_git() {
    local h dirty=""
    h=$(git -C "$1" rev-parse --short HEAD 2>/dev/null || echo '?')
    git -C "$1" status --porcelain -- src benchmarks 2>/dev/null | grep -q . && dirty=", uncommitted changes"
    echo "git $h$dirty"
}
{
    echo "# compare_trees $(date -u '+%Y-%m-%d %H:%M UTC')$([ "$DRY_RUN" = 1 ] && echo ' (DRY_RUN: nothing is run)')"
    echo "base: $BASE_ROOT ($(tree_git "$BASE_ROOT"))"
    echo "new:  $NEW_ROOT ($(tree_git "$NEW_ROOT"))"
    echo "this script: $(abspath "$(dirname "$0")")/$(basename "$0")"
    echo "ROUNDS=$ROUNDS CORE_ROWS=$CORE_ROWS CORE_REPEATS=$CORE_REPEATS FIT_RUNS=$FIT_RUNS CORE_FLOAT32=$CORE_FLOAT32" \
         "SOLVERS_ROWS=$SOLVERS_ROWS SOLVERS_BUDGET=$SOLVERS_BUDGET REAL_BUDGET=$REAL_BUDGET REAL_REPEATS=$REAL_REPEATS" \
         "COMPETITORS=$COMPETITORS QUIET_WAIT=$QUIET_WAIT ORDER=$ORDER LOGITGD_NUMBA_CACHE=${LOGITGD_NUMBA_CACHE:-<unset>}"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
} | tee "$INFO"
check_tree base "$BASE_ROOT"   # not in a pipe: its `exit` must end this script
check_tree new "$NEW_ROOT"

# -- commands ----------------------------------------------------------------------------------------------
core_args=(--rows "$CORE_ROWS" --repeats "$CORE_REPEATS" --fit-runs "$FIT_RUNS" --no-variants)
[ "$CORE_FLOAT32" = 1 ] || core_args+=(--no-float32)
solvers_args=(--datasets real,dense --rows "$SOLVERS_ROWS" --budget "$SOLVERS_BUDGET" --real-budget "$REAL_BUDGET"
              --real-repeats "$REAL_REPEATS" --no-mapping-check --no-write)
[ "$COMPETITORS" = 1 ] || solvers_args+=(--solvers logitgd)
if [ "$QUIET_WAIT" != 1 ]; then
    core_args+=(--no-quiet-wait)
    solvers_args+=(--no-quiet-wait)
fi

bench_cmd() {  # root bench(core|solvers): the interpreter's arguments for that tree's script
    local name=bench_$2
    if [ "$(layout "$1")" = package ]; then
        printf '%s\n' -m "benchmarks.$name"
    else
        printf '%s\n' "benchmarks/$name.py"
    fi
}

run_one() {  # bench tree round
    local bench=$1 tree=$2 round=$3 root stem t0 rc
    local -a cmd
    root=$(tree_root "$tree")
    stem="$OUT/${bench}_${tree}_r${round}"
    mapfile -t cmd < <(bench_cmd "$root" "$bench")
    if [ "$bench" = core ]; then cmd+=("${core_args[@]}"); else cmd+=("${solvers_args[@]}"); fi
    echo "[$(date -u +%H:%M:%S)] $bench $tree r$round: cd $root && PYTHONPATH=$root/src $PYTHON ${cmd[*]}" \
         "> $stem.md 2> $stem.log" | tee -a "$INFO"
    [ "$DRY_RUN" = 1 ] && return 0
    t0=$(date +%s)
    (cd "$root" && PYTHONPATH="$root/src" "$PYTHON" "${cmd[@]}") >"$stem.md" 2>"$stem.log"
    rc=$?
    echo "    rc=$rc, $(( $(date +%s) - t0 )) s, load average $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$INFO"
    if [ $rc -ne 0 ]; then
        echo "    FAILED: see $stem.log" | tee -a "$INFO"
        tail -n 5 "$stem.log" | sed 's/^/    | /'
    fi
}

# -- warm numba's cache for each tree (not timed) ----------------------------------------------------------
WARM='
import numpy as np, logitgd
rng = np.random.default_rng(0)
X = rng.standard_normal((20000, 50)); y = (X[:, 0] + rng.standard_normal(20000) > 0).astype(int)
for Xd in (X, X.astype(np.float32)):
    for solver in ("lbfgs", "gd", "newton", "sgd"):
        for penalty in ("l2", "l1"):
            if solver != "lbfgs" or penalty == "l2":
                logitgd.LogisticRegression(solver=solver, penalty=penalty, alpha=1e-3, max_iter=3).fit(Xd, y)
'
t_all=$(date +%s)
for tree in base new; do
    root=$(tree_root "$tree")
    echo "[$(date -u +%H:%M:%S)] warming numba's cache for $tree: cd $root && PYTHONPATH=$root/src $PYTHON -W ignore -c '<fits on 20,000 x 50>'" \
         "> $OUT/warm_$tree.log 2>&1" | tee -a "$INFO"
    [ "$DRY_RUN" = 1 ] && continue
    (cd "$root" && PYTHONPATH="$root/src" "$PYTHON" -W ignore -c "$WARM") >"$OUT/warm_$tree.log" 2>&1 \
        || echo "    warm-up failed: $OUT/warm_$tree.log" | tee -a "$INFO"
done

# -- the timed runs, interleaved ---------------------------------------------------------------------------
for ((r = 1; r <= ROUNDS; r++)); do
    if [ "$ORDER" = abab ] || [ $((r % 2)) -eq 1 ]; then order=(base new); else order=(new base); fi
    for bench in core solvers; do
        for tree in "${order[@]}"; do
            run_one "$bench" "$tree" "$r"
        done
    done
done
if [ "$DRY_RUN" = 1 ]; then
    echo "DRY_RUN=1: nothing run; the side-by-side tables would go to $OUT/side_by_side.md"
    exit 0
fi
echo "all runs: $(( $(date +%s) - t_all )) s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$INFO"

side_by_side
