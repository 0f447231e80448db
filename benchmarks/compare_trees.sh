#!/usr/bin/env bash
# Before/after timing of two logitgd source trees on the same machine, runs interleaved.
#
#   benchmarks/compare_trees.sh BASE_SRC NEW_SRC OUTDIR
#   e.g. from a checkout root, venv active:
#   benchmarks/compare_trees.sh /work/base/src /work/main/src /tmp/cmp
#   SIDE_BY_SIDE_ONLY=1 benchmarks/compare_trees.sh BASE_SRC NEW_SRC OUTDIR   # reprint the tables of OUTDIR
#
# BASE_SRC / NEW_SRC are the directories that hold the `logitgd` package (a tree's `src`); point them
# at fixed snapshots (a worktree at a commit, or `git archive COMMIT src | tar -x -C DIR`), not at a
# tree being edited meanwhile (on 2026-12-01 the live /work/main tree, with uncommitted edits, failed
# bench_core in rows.py while its HEAD 65ec62f ran). The
# benchmark scripts are this checkout's (the directory of this file) for both trees; only the
# imported logitgd changes, through PYTHONPATH. Per tree and round it runs
#
#   bench_core.py    --rows $CORE_ROWS --repeats $CORE_REPEATS --fit-runs $FIT_RUNS --no-variants --no-quiet-wait
#       -> "One gradient" vs the floor (float64 and float32) and "Full fit" vs scikit-learn (+ breakdown)
#   bench_solvers.py --datasets real,dense --rows $SOLVERS_ROWS --budget $SOLVERS_BUDGET
#                    --real-budget $REAL_BUDGET --real-repeats $REAL_REPEATS --solvers logitgd
#                    --no-mapping-check --no-write --no-quiet-wait
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
#   LOGITGD_NUMBA_CACHE    passed through; 0 = kernels compiled in each process (see RESULTS.md)
#
# numba's cache goes to OUTDIR/numba-cache, not into the trees, and no .pyc files are written
# (PYTHONDONTWRITEBYTECODE=1). Before the timed runs each tree fits once on data of 1e6 entries, so
# every timed run loads its kernels from that cache, as a user's second process would (RESULTS.md: a
# kernel loaded from the cache runs ~25 % slower than one compiled in-process; mixing the two would
# move the numbers between rounds).
#
# Import caveats. Both scripts do sys.path.insert(0, <their benchmarks/ directory>) for their helper
# modules (_quiet.py, _kernel_variants.py, _solvers_reference.py). That directory holds no `logitgd`,
# so PYTHONPATH still decides which logitgd is imported (PYTHONPATH comes before the virtualenv's
# editable install, a .pth entry for /work/main/src); this script checks, with and without that
# insert, that logitgd resolves inside each SRC before it times anything (a mistyped SRC would
# otherwise silently import the editable install). bench_core also uses logitgd's internals
# (logitgd._kernels.dense_loss_grad, logitgd.objective.LogisticObjective(X, y, use_kernel=False),
# .uses_kernel, .value/.value_and_grad/.grad/.hessian_bound, objective.Preconditioned). The
# restructured tree has no logitgd._kernels: bench_core runs through a launcher that aliases it (see
# CORE_LAUNCH below). If more moves, its run is marked FAILED and the rest goes on; its breakdown table
# lists only the methods it could wrap that the fit still calls. bench_solvers uses the public API only; its report's "at commit"
# is this checkout's HEAD, not the tested tree's, and it fits sgd without a random_state (sgd rows
# differ from run to run, also for one tree).
set -uo pipefail

if [ $# -ne 3 ]; then
    sed -n '2,8p' "$0" >&2
    exit 2
fi
abspath() { (cd "$1" 2>/dev/null && pwd -P) || { echo "no such directory: $1" >&2; return 2; }; }
BASE_SRC=$(abspath "$1") || exit 2
NEW_SRC=$(abspath "$2") || exit 2
mkdir -p "$3" || exit 2
OUT=$(abspath "$3") || exit 2
BENCH=$(abspath "$(dirname "$0")") || exit 2

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
            cur[2][NUM.sub("#", cells[0]) + dtype] = (cells[0] + dtype, dict(zip(hdr, cells)))
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

for f in bench_core.py bench_solvers.py _quiet.py _kernel_variants.py _solvers_reference.py; do
    [ -f "$BENCH/$f" ] || { echo "missing $BENCH/$f" >&2; exit 2; }
done
export NUMBA_CACHE_DIR="$OUT/numba-cache"
export PYTHONDONTWRITEBYTECODE=1
mkdir -p "$NUMBA_CACHE_DIR"

# -- which logitgd each PYTHONPATH imports ---------------------------------------------------------------
check_tree() {  # name src
    local got code
    for code in 'import os, logitgd; print(os.path.realpath(logitgd.__file__))' \
                "import os, sys; sys.path.insert(0, '$BENCH'); import _quiet, logitgd; print(os.path.realpath(logitgd.__file__))"; do
        got=$(cd "$OUT" && PYTHONPATH="$2" "$PYTHON" -c "$code") || { echo "$1: 'import logitgd' failed with PYTHONPATH=$2" >&2; exit 2; }
        case "$got" in
            "$2"/logitgd/*) ;;
            *) echo "$1: PYTHONPATH=$2 imports logitgd from $got, not from that tree" >&2; exit 2 ;;
        esac
    done
    echo "$1: logitgd from $got" | tee -a "$OUT/info.txt"
    if ! (cd "$OUT" && PYTHONPATH="$2" "$PYTHON" -c 'import logitgd._kernels' 2>/dev/null); then
        echo "$1: no logitgd._kernels (bench_core imports it): aliased to logitgd.backends.numpy.kernels for bench_core" \
            | tee -a "$OUT/info.txt"
    fi
}
tree_git() {
    local h dirty=""
    h=$(git -C "$1" rev-parse --short HEAD 2>/dev/null || echo '?')
    git -C "$1" status --porcelain -- . 2>/dev/null | grep -q . && dirty=", uncommitted changes"
    echo "git $h$dirty"
}
{
    echo "# compare_trees $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "base: $BASE_SRC ($(tree_git "$BASE_SRC"))"
    echo "new:  $NEW_SRC ($(tree_git "$NEW_SRC"))"
    echo "benchmarks: $BENCH ($(tree_git "$BENCH"))"
    echo "ROUNDS=$ROUNDS CORE_ROWS=$CORE_ROWS CORE_REPEATS=$CORE_REPEATS FIT_RUNS=$FIT_RUNS CORE_FLOAT32=$CORE_FLOAT32" \
         "SOLVERS_ROWS=$SOLVERS_ROWS SOLVERS_BUDGET=$SOLVERS_BUDGET REAL_BUDGET=$REAL_BUDGET REAL_REPEATS=$REAL_REPEATS" \
         "COMPETITORS=$COMPETITORS QUIET_WAIT=$QUIET_WAIT ORDER=$ORDER LOGITGD_NUMBA_CACHE=${LOGITGD_NUMBA_CACHE:-<unset>}"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
} | tee "$OUT/info.txt"
check_tree base "$BASE_SRC"   # not in a pipe: its `exit` must end this script
check_tree new "$NEW_SRC"

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
tree_src() { if [ "$1" = base ]; then echo "$BASE_SRC"; else echo "$NEW_SRC"; fi; }

# bench_core does `from logitgd import _kernels`. The restructured tree (/work/main at 65ec62f) has the
# kernels in logitgd.backends.numpy.kernels (same dense_loss_grad(X, y, sw, w, b, grad_out) signature)
# and no logitgd._kernels, so bench_core fails at import there (its own copy in that tree too). It is
# run through this launcher, which aliases the old name to the new module only where the old one is
# missing (said on stderr), then runs the unchanged script as __main__; the rest of its internals
# (objective.LogisticObjective(use_kernel=...), .uses_kernel, objective.Preconditioned) still exist there.
CORE_LAUNCH='
import runpy, sys
script = sys.argv[1]
sys.argv = sys.argv[1:]
try:
    import logitgd._kernels  # noqa: F401
except ImportError:
    import logitgd
    from logitgd.backends.numpy import kernels
    sys.modules["logitgd._kernels"] = logitgd._kernels = kernels
    print("compare_trees: logitgd._kernels is missing; aliased to logitgd.backends.numpy.kernels", file=sys.stderr)
runpy.run_path(script, run_name="__main__")
'

run_one() {  # bench tree round
    local bench=$1 tree=$2 round=$3 src stem t0 rc
    local -a cmd
    src=$(tree_src "$tree")
    stem="$OUT/${bench}_${tree}_r${round}"
    if [ "$bench" = core ]; then cmd=(bench_core.py "${core_args[@]}"); else cmd=(bench_solvers.py "${solvers_args[@]}"); fi
    echo "[$(date -u +%H:%M:%S)] $bench $tree r$round: PYTHONPATH=$src $PYTHON $BENCH/${cmd[*]}" | tee -a "$OUT/info.txt"
    t0=$(date +%s)
    if [ "$bench" = core ]; then
        (cd "$OUT" && PYTHONPATH="$src" "$PYTHON" -c "$CORE_LAUNCH" "$BENCH/${cmd[0]}" "${cmd[@]:1}") >"$stem.md" 2>"$stem.log"
    else
        (cd "$OUT" && PYTHONPATH="$src" "$PYTHON" "$BENCH/${cmd[0]}" "${cmd[@]:1}") >"$stem.md" 2>"$stem.log"
    fi
    rc=$?
    echo "    rc=$rc, $(( $(date +%s) - t0 )) s, load average $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT/info.txt"
    if [ $rc -ne 0 ]; then
        echo "    FAILED: see $stem.log" | tee -a "$OUT/info.txt"
        tail -n 5 "$stem.log" | sed 's/^/    | /'
    fi
}

# -- warm numba's cache for each tree (not timed) ----------------------------------------------------------
t_all=$(date +%s)
for tree in base new; do
    echo "[$(date -u +%H:%M:%S)] warming numba's cache for $tree ..." | tee -a "$OUT/info.txt"
    (cd "$OUT" && PYTHONPATH="$(tree_src "$tree")" "$PYTHON" -W ignore -c '
import numpy as np, logitgd
rng = np.random.default_rng(0)
X = rng.standard_normal((20000, 50)); y = (X[:, 0] + rng.standard_normal(20000) > 0).astype(int)
for Xd in (X, X.astype(np.float32)):
    for solver in ("lbfgs", "gd", "newton", "sgd"):
        for penalty in ("l2", "l1"):
            if solver != "lbfgs" or penalty == "l2":
                logitgd.LogisticRegression(solver=solver, penalty=penalty, alpha=1e-3, max_iter=3).fit(Xd, y)
') >"$OUT/warm_$tree.log" 2>&1 || echo "    warm-up failed: $OUT/warm_$tree.log" | tee -a "$OUT/info.txt"
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
echo "all runs: $(( $(date +%s) - t_all )) s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/info.txt"

side_by_side
