"""Helpers of the benchmark suites, in one place (nothing here is run by itself).

Shared by several suites:

* :mod:`.quiet`: wait for an idle machine before a timed call (``QuietGate``; bench_core, bench_solvers,
  bench_sparse);
* :mod:`.time_to_target`: time to J <= f* (1 + 1e-6) of logitgd's solvers and the competitors' on a
  ``Problem`` (bench_solvers, bench_sparse);
* :mod:`.solvers_reference`: bench_solvers' data sets, the independent cost ``J`` and the reference
  optimum ``f*`` (also used by time_to_target);
* :mod:`.report`: a report's environment lines and commit, and the path of RESULTS.md (bench_solvers,
  bench_sparse).

Parts of one suite, kept apart so that no file passes 600 lines:

* :mod:`.full_fit`: bench_core's full fit (the evaluator of J, the Newton reference, the timed fits);
* :mod:`.kernel_variants`: the prototype numba kernels that bench_core times beside the shipped one;
* :mod:`.parity_cases`: parity's seeded data sets and cases.
"""
