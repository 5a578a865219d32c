"""Reads Halo's plain-text dataset folder (`halo generate ... --format plain`, the layout of
shared/datasets) into tensors: in-neighbour CSR without self-loops, dense float32 features,
labels and split masks.

Parsing the text of a Reddit-sized graph takes minutes and several GB, so the arrays are cached
as .npy files in DIR/npy/. Run `python load_plain.py DIR` once before the timed runs: the peak
memory of parsing then stays out of the peers' ru_maxrss.
"""
import os
import shutil
import sys
from dataclasses import dataclass

import numpy as np
import torch

CACHE = "npy"
ARRAYS = ("rowptr", "col", "x", "y", "train", "val", "test")


@dataclass
class Graph:
    name: str
    rowptr: torch.Tensor  # int64 [N + 1]; row v lists v's in-neighbours (the graph is symmetric)
    col: torch.Tensor  # int64 [E]
    x: torch.Tensor  # float32 [N, F]
    y: torch.Tensor  # int64 [N]
    train: torch.Tensor  # bool [N]
    val: torch.Tensor
    test: torch.Tensor
    num_classes: int

    @property
    def num_nodes(self):
        return self.y.numel()

    @property
    def num_edges(self):
        return self.col.numel()

    def row(self):
        """Destination index of every CSR entry (COO rows)."""
        deg = self.rowptr[1:] - self.rowptr[:-1]
        return torch.repeat_interleave(torch.arange(self.num_nodes), deg)

    def edge_index(self):
        """PyG's [2, E] (source, target) layout."""
        return torch.stack([self.col, self.row()])


def _read_columns(path, dtypes):
    import pandas as pd

    frame = pd.read_csv(path, sep=" ", header=None, names=list(range(len(dtypes))), dtype=dict(enumerate(dtypes)),
                        engine="c")
    return [frame[i].to_numpy() for i in range(len(dtypes))]


def _read_meta(folder):
    meta = {}
    with open(os.path.join(folder, "meta.txt")) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                meta[parts[0]] = parts[1]
    return meta


def _parse(folder):
    meta = _read_meta(folder)
    y = np.loadtxt(os.path.join(folder, "labels.txt"), dtype=np.int64, ndmin=1)
    n = y.size
    f = int(meta["num_features"])

    src, dst = _read_columns(os.path.join(folder, "edges.txt"), [np.int64, np.int64])
    # Each undirected edge is stored once: add both directions, then sort by destination.
    rows = np.concatenate([dst, src])
    cols = np.concatenate([src, dst])
    del src, dst
    order = np.lexsort((cols, rows))
    col = cols[order]
    rowptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=rowptr[1:])
    del rows, cols, order

    x = np.zeros((n, f), dtype=np.float32)
    node, feat, value = _read_columns(os.path.join(folder, "features.txt"), [np.int32, np.int32, np.float32])
    x[node, feat] = value
    del node, feat, value

    masks = {}
    for split in ("train", "val", "test"):
        ids = np.loadtxt(os.path.join(folder, f"{split}.txt"), dtype=np.int64, ndmin=1)
        masks[split] = np.zeros(n, dtype=bool)
        masks[split][ids] = True
    return dict(rowptr=rowptr, col=col, x=x, y=y, **masks)


def ensure_cache(folder):
    cache = os.path.join(folder, CACHE)
    if os.path.isdir(cache):  # renamed into place only once complete
        return cache
    arrays = _parse(folder)
    tmp = cache + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, a in arrays.items():
        np.save(os.path.join(tmp, name + ".npy"), a)
    os.rename(tmp, cache)
    return cache


def load(folder):
    cache = ensure_cache(folder)
    a = {name: torch.from_numpy(np.load(os.path.join(cache, name + ".npy"))) for name in ARRAYS}
    classes = int(_read_meta(folder).get("num_classes", int(a["y"].max()) + 1))
    return Graph(name=name_of(folder), num_classes=classes, **a)


def name_of(folder):
    return os.path.basename(os.path.normpath(folder))


if __name__ == "__main__":
    for d in sys.argv[1:]:
        g = load(d)
        print(f"{d}: {g.num_nodes} nodes, {g.num_edges} directed edges, {g.x.shape[1]} features, "
              f"{g.num_classes} classes, train/val/test {int(g.train.sum())}/{int(g.val.sum())}/{int(g.test.sum())}")
