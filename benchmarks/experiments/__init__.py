"""One-off measurements quoted in benchmarks/RESULTS.md, each run as ``python -m benchmarks.experiments.NAME``.

* :mod:`.aligned_chunks`: one chunk's products on float64 data, aligned and 3 bytes off;
* :mod:`.float64_path`: fused kernel or cuBLAS for float64 X on a GPU (needs CUDA);
* :mod:`.profile_gpu_fit`: cProfile of one Newton and one L-BFGS fit on a GPU (needs CUDA);
* :mod:`.tune_f64`: the fused kernel's block configuration for float64 data on a GPU (needs CUDA).
"""
