"""Time to accuracy of mini-batch training: PyG NeighborLoader GraphSAGE (mean), the usual way
to train a Reddit-sized graph on one machine. Trains until the validation accuracy first
reaches --target and prints one JSON line.

The clock counts training only (sampling, feature gathering, forward, backward, step), as
Halo's epoch_seconds do; the validation passes every --eval-every batches (full-graph
inference over the sparse adjacency) run off the clock, and the wall time including them is
reported beside it.
"""
import time

import torch
import torch.nn.functional as F
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader
from torch_geometric.nn import SAGEConv

import harness
import load_plain


def add_options(p):
    p.add_argument("--target", type=float, required=True, help="validation accuracy to reach")
    p.add_argument("--fanouts", default="25,10")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--eval-every", type=int, default=10, help="batches between validation passes")
    p.add_argument("--max-epochs", type=int, default=10)
    p.add_argument("--max-seconds", type=float, default=3600, help="training seconds before giving up")


def main():
    args = harness.parse_args(__doc__, add_options, models=("sage",))
    harness.guarded("pyg-neighborloader", args, lambda: train(args))


def train(args):
    g = load_plain.load(args.graph)
    fanouts = [int(f) for f in args.fanouts.split(",")]
    args.layers = len(fanouts)
    start = time.perf_counter()
    loader = NeighborLoader(Data(x=g.x, y=g.y, edge_index=g.edge_index(), num_nodes=g.num_nodes),
                            num_neighbors=fanouts, batch_size=args.batch_size, input_nodes=g.train, shuffle=True)
    full = torch.sparse_csr_tensor(g.rowptr, g.col, torch.ones(g.num_edges), (g.num_nodes,) * 2)
    model = harness.Stack([SAGEConv(i, o, aggr="mean") for i, o in harness.widths(args, g)], args.dropout,
                          lambda conv, x, adj: conv(x, adj))
    opt = harness.optimizer(args, model)
    setup = time.perf_counter() - start

    def validate():
        model.eval()
        with torch.no_grad():
            return harness.accuracy(model(g.x, full), g.y, g.val)

    trained = 0.0  # seconds on the clock
    wall_start = time.perf_counter()
    batches, best, reached, batch_seconds = 0, 0.0, None, []
    for _ in range(args.max_epochs):
        tick = time.perf_counter()
        for batch in loader:
            model.train()
            opt.zero_grad()
            n = batch.batch_size
            loss = F.cross_entropy(model(batch.x, batch.edge_index)[:n], batch.y[:n])
            loss.backward()
            opt.step()
            now = time.perf_counter()
            batch_seconds.append(now - tick)
            trained += now - tick
            batches += 1
            if batches % args.eval_every == 0:
                acc = validate()
                best = max(best, acc)
                if acc >= args.target:
                    reached = dict(seconds_to_target=trained, wall_seconds_to_target=time.perf_counter() - wall_start,
                                   batches_to_target=batches, epochs_to_target=batches / len(loader),
                                   val_acc_at_target=acc)
                    break
            tick = time.perf_counter()  # after validation: it stays off the clock
            if trained > args.max_seconds:
                break
        if reached or trained > args.max_seconds:
            break
    harness.emit({
        "peer": "pyg-neighborloader",
        "model": "sage",
        "graph": g.name,
        "target_val_acc": args.target,
        **(reached or dict(seconds_to_target=None, wall_seconds_to_target=None, batches_to_target=None,
                           epochs_to_target=None, val_acc_at_target=None)),
        "best_val_acc": best,
        "batches": batches,
        "batches_per_epoch": len(loader),
        "median_batch_s": sorted(batch_seconds)[len(batch_seconds) // 2] if batch_seconds else None,
        "peak_rss_bytes": harness.peak_rss_bytes(),
        "import_rss_bytes": harness.IMPORT_RSS_BYTES,
        "setup_s": setup,
        "fanouts": fanouts,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
    })


if __name__ == "__main__":
    main()
