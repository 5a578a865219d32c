"""PyTorch Geometric, full-graph GCNConv / SAGEConv (mean), as a user writes it.

--input edge_index: the default [2, E] input; message passing gathers an [E, width] message
  tensor, so it needs E x width x 4 bytes more than the sparse inputs.
--input sparse_tensor: the transposed adjacency as a torch_sparse SparseTensor, PyG's
  recommended full-graph input; the driver runs this one as PyG's best. On CPU, PyG 2.6
  passes it to torch.sparse.mm as a CSR tensor with a reduce (torch_geometric/utils/_spmm.py).
--input torch_csr: a torch.sparse_csr_tensor given directly: the same kernel; measured equal or
  a little slower here (its backward transposes the CSR every step), so not run by default.
GCNConv runs with cached=True: the normalised adjacency is computed once, as PyG's
transductive examples do.
"""
import torch
from torch_geometric.nn import GCNConv, SAGEConv
from torch_geometric.typing import SparseTensor  # torch_sparse's, or a stub that says it is missing

import harness


def adjacency(args, g):
    if args.input == "edge_index":
        return g.edge_index()
    # adj_t[v, u] = 1 for every edge u -> v: the in-neighbour CSR as it is.
    n = g.num_nodes
    if args.input == "torch_csr":
        return torch.sparse_csr_tensor(g.rowptr, g.col, torch.ones(g.num_edges), (n, n))
    return SparseTensor(rowptr=g.rowptr, col=g.col, sparse_sizes=(n, n), is_sorted=True, trust_data=True)


def build(args, g):
    adj = adjacency(args, g)
    if args.model == "gcn":
        convs = [GCNConv(i, o, cached=True) for i, o in harness.widths(args, g)]
    else:
        convs = [SAGEConv(i, o, aggr="mean") for i, o in harness.widths(args, g)]
    return harness.Stack(convs, args.dropout, lambda conv, x: conv(x, adj))


def add_options(p):
    p.add_argument("--input", choices=["edge_index", "torch_csr", "sparse_tensor"], default="edge_index")


if __name__ == "__main__":
    harness.run(lambda args: "pyg" if args.input == "edge_index" else f"pyg-{args.input.replace('_', '-')}",
                __doc__, build, add_options)
