"""Helpers shared by the benchmark suites (nothing here is run by itself).

* :mod:`.quiet`: wait for an idle machine before a timed call (``QuietGate``);
* :mod:`.solvers_reference`: the data sets, the independent cost ``J`` and the reference optimum ``f*``;
* :mod:`.kernel_variants`: prototype variants of the fused numba kernel that bench_core times;
"""
