"""One line on the BLAS the peers' torch runs. Run with MKL_VERBOSE=1: MKL then prints its
version and the code path it dispatched to when the sgemm below calls it."""
import re

import torch

torch.set_num_threads(2)
a = torch.randn(512, 512)
a @ a
config = torch.__config__.show()
blas = re.search(r"BLAS_INFO=(\w+)", config)
mkl = re.search(r"Math Kernel Library Version ([^\s]+)", config)
print(f"torch {torch.__version__}: BLAS_INFO={blas.group(1) if blas else '?'}"
      f"{f', MKL {mkl.group(1)}' if mkl else ''}, ATen CPU capability {torch.backends.cpu.get_cpu_capability()}")
