"""The GEMMs of bench/gemm_bench.cpp through PyPI torch (MKL), as the same JSON lines.
Usage: python gemm_mkl.py THREADS [REPS]"""
import json
import sys
import time

import torch

threads = int(sys.argv[1])
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
torch.set_num_threads(threads)
blas = "MKL" if torch.backends.mkl.is_available() else "torch's BLAS (no MKL)"
for rows, fin, fout in [(200000, 128, 256), (50000, 1204, 256), (200000, 256, 41)]:
    x, w, dy = torch.rand(rows, fin), torch.rand(fin, fout), torch.rand(rows, fout)
    y, dw, dx = torch.empty(rows, fout), torch.empty(fin, fout), torch.empty(rows, fin)
    products = [
        ("forward x W", lambda: torch.mm(x, w, out=y)),
        ("backward x^T dy", lambda: torch.mm(x.t(), dy, out=dw)),
        ("backward dy W^T", lambda: torch.mm(dy, w.t(), out=dx)),
    ]
    for name, product in products:
        product()
        best = float("inf")
        for _ in range(reps):
            start = time.perf_counter()
            product()
            best = min(best, time.perf_counter() - start)
        print(json.dumps({"shape": f"{rows} x {fin} x {fout}", "product": name,
                          "gflops": 2.0 * rows * fin * fout / best / 1e9, "kernel": blas,
                          "chosen_by": f"torch {torch.__version__}", "threads": threads}), flush=True)
