"""PyTorch Geometric's full-graph inference of a GCN trained by Halo (`halo train --model gcn
--export weights.pt`), on the same CPU: prints one JSON line with its median time and its
train / val / test accuracy and, given Halo's records, Halo's beside them and whether the two
classify the nodes alike.

  python pyg_gcn_inference.py GRAPH weights.pt --threads T \
      [--halo-igcn igcn.json --halo-metrics metrics.jsonl] [--halo-predictions DIR]

--halo-igcn: `halo igcn --json`'s output (Halo's time); --halo-metrics: the training's
`--metrics` file, whose last epoch has the accuracy of the exported weights; --halo-predictions:
`halo predict -o DIR`'s folder, every node's class and probabilities (node by node agreement).

GRAPH is a plain dataset folder (load_plain.py). The model is Halo's: features row-normalised
as --normalize-features does (a row that sums to 0 is left as is), GCNConv layers
(D^-1/2 (A + I) D^-1/2, D = in-degree + 1), ReLU between them, eval mode (no dropout). Halo
stores a layer's weight as [in, out], PyG's lin.weight is [out, in].

Timed like `halo igcn` times Halo: a warm-up run, then at least 21 runs and 0.3 s, at most 101,
under torch.inference_mode(); the median. GCNConv runs with cached=True (the normalised
adjacency made once, in the warm-up), on each input in INPUTS; the fastest one is PyG's time.
"""
import argparse
import json
import os
import re
import statistics
import time
import warnings

import numpy as np
import torch
from torch_geometric.nn import GCNConv
from torch_geometric.typing import SparseTensor  # torch_sparse's, or a stub that says it is missing

import load_plain

# torch 2.2 warns on every CSR tensor it builds (torch_sparse's, here) that CSR support is beta.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
MIN_RUNS, MAX_RUNS, MIN_SECONDS = 21, 101, 0.3
INPUTS = ("sparse_tensor", "edge_index")


def row_normalized(x):
    sums = x.sum(1, keepdim=True)
    return x / torch.where(sums == 0, torch.ones_like(sums), sums)


class GCN(torch.nn.Module):
    def __init__(self, weights):
        super().__init__()
        n = len([k for k in weights if k.endswith(".weight")])
        self.convs = torch.nn.ModuleList()
        for i in range(n):
            w, b = weights[f"layers.{i}.weight"], weights.get(f"layers.{i}.bias")
            conv = GCNConv(w.shape[0], w.shape[1], cached=True, bias=b is not None)
            conv.lin.weight.data.copy_(w.t())
            if b is not None:
                conv.bias.data.copy_(b)
            self.convs.append(conv)

    def forward(self, x, adj):
        for i, conv in enumerate(self.convs):
            x = conv(x, adj)
            if i + 1 < len(self.convs):
                x = x.relu()
        return x


def adjacency(kind, g):
    if kind == "edge_index":
        return g.edge_index()
    n = g.num_nodes  # adj_t[v, u] = 1 for every edge u -> v: the in-neighbour CSR as it is
    return SparseTensor(rowptr=g.rowptr, col=g.col, sparse_sizes=(n, n), is_sorted=True, trust_data=True)


def timed(model, x, adj):
    """Median seconds of model(x, adj) after a warm-up run, and the number of runs."""
    times, start = [], time.perf_counter()
    while len(times) < MAX_RUNS and (len(times) < MIN_RUNS or time.perf_counter() - start < MIN_SECONDS):
        tick = time.perf_counter()
        model(x, adj)
        times.append(time.perf_counter() - tick)
    return statistics.median(times), len(times)


def torch_config():
    """torch's version, BLAS and threads, as torch.__config__ reports them."""
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    fields = [f"torch {torch.__version__}", f"BLAS_INFO={blas.group(1) if blas else '?'}",
              f"ATen CPU capability {torch.backends.cpu.get_cpu_capability()}"]
    fields += [line.strip().replace("Intel(R) oneAPI Math Kernel Library", "MKL") for line in
               torch.__config__.parallel_info().splitlines()
               if line.strip().startswith(("at::get_num_threads", "ATen parallel backend", "OpenMP", "Intel(R)"))]
    return "; ".join(fields)


def halo_record(igcn_path, metrics_path):
    with open(igcn_path) as f:
        igcn = json.load(f)
    with open(metrics_path) as f:  # the last epoch is evaluated after its step: the exported weights
        last = [json.loads(line) for line in f if line.strip()][-1]
    return {"median_s": igcn["cpu_inference_s"], "threads": igcn["cpu_threads"],
            "acc": {s: last[f"{s}_acc"] for s in ("train", "val", "test")}}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("graph", help="plain dataset folder")
    p.add_argument("weights", help="halo train --export FILE")
    p.add_argument("--threads", type=int, required=True)
    p.add_argument("--halo-igcn", help="halo igcn --json output, for Halo's time")
    p.add_argument("--halo-metrics", help="halo train --metrics file, for Halo's accuracy")
    p.add_argument("--halo-predictions", help="halo predict -o DIR, for Halo's class of every node")
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    g = load_plain.load(a.graph)
    x = row_normalized(g.x)
    model = GCN(torch.load(a.weights)).eval()
    record = {"graph": g.name, "layers": len(model.convs), "threads": torch.get_num_threads(), "inputs": {}}
    logits = {}
    with torch.inference_mode():
        for kind in INPUTS:
            for conv in model.convs:
                conv._cached_edge_index = conv._cached_adj_t = None  # each input makes its own cache
            adj = adjacency(kind, g)
            logits[kind] = model(x, adj)  # also the warm-up, which fills the cache
            median, runs = timed(model, x, adj)
            record["inputs"][kind] = {"median_s": median, "runs": runs}
    pred = logits[INPUTS[0]].argmax(1)
    record["inputs_agree"] = all(torch.equal(pred, z.argmax(1)) for z in logits.values())
    splits = {"train": g.train, "val": g.val, "test": g.test}
    record["acc"] = {s: float((pred[m] == g.y[m]).float().mean()) for s, m in splits.items()}
    record["input"] = min(record["inputs"], key=lambda k: record["inputs"][k]["median_s"])
    record.update(record["inputs"][record["input"]])
    record["torch"] = torch_config()
    if a.halo_igcn and a.halo_metrics:
        halo = record["halo"] = halo_record(a.halo_igcn, a.halo_metrics)
        # Halo's accuracies are shares of the same splits: equal counts of correct nodes on each.
        record["same_accuracy"] = all(round(halo["acc"][s] * int(m.sum())) == int((pred[m] == g.y[m]).sum())
                                      for s, m in splits.items())
    if a.halo_predictions:  # every node's class and probabilities, from `halo predict`
        classes = torch.from_numpy(np.load(os.path.join(a.halo_predictions, "classes.npy")))
        probabilities = torch.from_numpy(np.load(os.path.join(a.halo_predictions, "probabilities.npy")))
        record["nodes"] = g.num_nodes
        record["nodes_differ"] = int((classes != pred).sum())
        record["max_probability_diff"] = float((probabilities - logits[INPUTS[0]].softmax(1)).abs().max())
    print(json.dumps(record))


if __name__ == "__main__":
    main()
