"""logitgd's benchmarks: run from the checkout root as modules, e.g. ``python -m benchmarks.bench_core``.

Suites (each prints Markdown or JSON lines; benchmarks/RESULTS.md records their runs):

* :mod:`.bench_core`: one gradient evaluation against the memory floor, and a full fit against scikit-learn;
* :mod:`.bench_solvers`: time to J <= f* (1 + 1e-6) for every logitgd solver and its competitors;
* :mod:`.bench_sparse`: the same on sparse (CSR) and multinomial data;
* :mod:`.bench_dask`: Dask on a LocalCluster against dask-ml and in memory, and out of core;
* :mod:`.bench_gpu`: the fused GPU kernel against PyTorch and the floor, time to f* on a GPU (needs CUDA);
* :mod:`.parity`: bit-for-bit parity of fits between two source trees (``run``, ``compare``, ``list``).

``compare_trees.sh`` times bench_core and bench_solvers of two checkouts, interleaved, side by side.

:mod:`.common` holds the helpers the suites share; :mod:`.experiments` the one-off
measurements that RESULTS.md quotes (``python -m benchmarks.experiments.NAME``).
"""
