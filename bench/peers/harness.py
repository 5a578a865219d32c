"""What every peer script shares: the command line, the layer stack, the full-graph training
loop with its clock, and the one JSON line each run prints. A peer supplies only its
convolutions and how to call them.
"""
import argparse
import json
import os
import resource
import statistics
import time
import warnings

import torch
import torch.nn.functional as F

import load_plain

# torch 2.2 warns on every CSR tensor it builds that CSR support is beta.
warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")


def parse_args(description, add_options=None, models=("gcn", "sage")):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("graph", help="plain-text dataset folder (halo generate ... --format plain)")
    p.add_argument("--model", choices=models, required=len(models) > 1, default=models[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--lr", type=float, default=0.01)
    # Halo's default, so both sides run the same optimiser.
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    if add_options:
        add_options(p)
    args = p.parse_args()
    limit_memory()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return args


def widths(args, graph):
    """(in, out) of each layer."""
    dims = [graph.x.shape[1]] + [args.hidden] * (args.layers - 1) + [graph.num_classes]
    return list(zip(dims[:-1], dims[1:]))


class Stack(torch.nn.Module):
    """Dropout before every layer and ReLU between layers, as Halo's model. `call(conv, x,
    *graph)` runs one convolution on the peer's graph object, held by `call` or passed to
    forward."""

    def __init__(self, convs, dropout, call):
        super().__init__()
        self.convs = torch.nn.ModuleList(convs)
        self.dropout = dropout
        self.call = call

    def forward(self, x, *graph):
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, self.dropout, self.training)
            x = self.call(conv, x, *graph)
            if i + 1 < len(self.convs):
                x = x.relu()
        return x


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# The fixed cost of the peer's libraries (the PyPI torch maps its CUDA libraries too), taken
# before any graph is loaded; reported beside the peak.
IMPORT_RSS_BYTES = rss_bytes()


def limit_memory():
    """Caps the heap (RLIMIT_DATA) at PEERS_MEM_LIMIT bytes, by default 90% of the memory
    available now (0: no cap), so that a peer too big for the machine fails on an allocation
    and is reported as out of memory, instead of waking the OOM killer on a shared machine."""
    limit = int(os.environ.get("PEERS_MEM_LIMIT", -1))
    if limit < 0:
        with open("/proc/meminfo") as f:
            available = next(int(line.split()[1]) * 1024 for line in f if line.startswith("MemAvailable:"))
        limit = int(0.9 * available)
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.getrlimit(resource.RLIMIT_DATA)[1]))
    return limit


def guarded(peer, args, body):
    """Runs body(); an allocation failure becomes the run's record (an "error" instead of
    timings) rather than a crash: a peer that does not fit is a result."""
    try:
        body()
    except Exception as e:  # torch raises RuntimeError, numpy MemoryError, DGL its DGLError
        if not (isinstance(e, MemoryError) or "memory" in str(e).lower()):
            raise
        emit({"peer": peer, "model": args.model, "graph": load_plain.name_of(args.graph), "error": "out of memory",
              "detail": str(e).strip().splitlines()[0][:300], "peak_rss_bytes": peak_rss_bytes(),
              "rlimit_data_bytes": resource.getrlimit(resource.RLIMIT_DATA)[0]})


def accuracy(logits, y, mask):
    return float((logits[mask].argmax(-1) == y[mask]).float().mean())


def optimizer(args, model):
    return torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def emit(record):
    print(json.dumps(record), flush=True)


def train_full_graph(peer, args, graph, model, setup_seconds):
    """Full-graph epochs (forward, loss on the training nodes, backward, step), each timed
    alone; evaluation runs once, after the clock."""
    opt = optimizer(args, model)
    x, y, train = graph.x, graph.y, graph.train
    seconds = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        model.train()
        opt.zero_grad()
        loss = F.cross_entropy(model(x)[train], y[train])
        loss.backward()
        opt.step()
        seconds.append(time.perf_counter() - start)
    model.eval()
    with torch.no_grad():
        logits = model(x)
    emit({
        "peer": peer,
        "model": args.model,
        "graph": graph.name,
        "median_epoch_s": statistics.median(seconds),
        "peak_rss_bytes": peak_rss_bytes(),
        "epochs": args.epochs,
        "val_acc_final": accuracy(logits, y, graph.val),
        "loss_final": float(loss),
        "setup_s": setup_seconds,
        "import_rss_bytes": IMPORT_RSS_BYTES,
        "threads": torch.get_num_threads(),
    })


def run(peer, description, build, add_options=None):
    """Loads the graph, lets `build(args, graph)` make the model, trains it."""
    args = parse_args(description, add_options)
    name = peer(args) if callable(peer) else peer

    def body():
        graph = load_plain.load(args.graph)
        start = time.perf_counter()
        model = build(args, graph)
        train_full_graph(name, args, graph, model, time.perf_counter() - start)

    guarded(name, args, body)
