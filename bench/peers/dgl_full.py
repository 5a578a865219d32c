"""DGL, full-graph GraphConv (norm='both' on A + I) / SAGEConv('mean'). Both project before
aggregating when a layer narrows the features."""
import dgl
import dgl.nn.pytorch as dglnn
import torch

import harness


def build(args, g):
    dgl.utils.set_num_threads(args.threads)  # DGL's own OpenMP kernels
    # CSR rows are destinations, so col -> row are the edges (src, dst); the graph is symmetric.
    graph = dgl.graph(("csr", (g.rowptr, g.col, torch.tensor([], dtype=torch.int64))), num_nodes=g.num_nodes)
    if args.model == "gcn":
        graph = dgl.add_self_loop(graph)
        convs = [dglnn.GraphConv(i, o, norm="both") for i, o in harness.widths(args, g)]
    else:
        convs = [dglnn.SAGEConv(i, o, "mean") for i, o in harness.widths(args, g)]
    graph.create_formats_()  # build every sparse format now, not inside the first epoch
    return harness.Stack(convs, args.dropout, lambda conv, x: conv(graph, x))


if __name__ == "__main__":
    harness.run("dgl", __doc__, build)
