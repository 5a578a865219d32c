"""Plain PyTorch, no GNN library: the adjacency as torch.sparse_csr_tensor, a custom autograd
function whose backward multiplies by the transpose built once (torch would otherwise
transpose the CSR every step), and each layer aggregating at the narrower of its two widths.
"""
import torch

import harness


def csr(rowptr, col, values, n):
    return torch.sparse_csr_tensor(rowptr, col, values, (n, n))


class SpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, a_t, x):
        ctx.a_t = a_t
        return torch.sparse.mm(a, x)

    @staticmethod
    def backward(ctx, grad):
        return None, None, torch.sparse.mm(ctx.a_t, grad)


class Adjacency:
    """A and its cached transpose (the same tensor when A is symmetric)."""

    def __init__(self, a, a_t=None):
        self.a, self.a_t = a, a if a_t is None else a_t

    def __matmul__(self, x):
        return SpMM.apply(self.a, self.a_t, x)


def gcn_adjacency(g):
    # D^-1/2 (A + I) D^-1/2, D = in-degree + 1: symmetric, so it is its own transpose.
    n = g.num_nodes
    row = torch.cat([g.row(), torch.arange(n)])
    col = torch.cat([g.col, torch.arange(n)])
    order = torch.argsort(row * n + col)
    row, col = row[order], col[order]
    norm = (torch.bincount(row, minlength=n) + 0.0).rsqrt()
    rowptr = torch.zeros(n + 1, dtype=torch.int64)
    rowptr[1:] = torch.cumsum(torch.bincount(row, minlength=n), 0)
    return Adjacency(csr(rowptr, col, norm[row] * norm[col], n))


def mean_adjacency(g):
    # D^-1 A (row v averages v's in-neighbours); its transpose is not itself.
    n = g.num_nodes
    deg = (g.rowptr[1:] - g.rowptr[:-1]).clamp_min(1).float()
    a = csr(g.rowptr, g.col, (1.0 / deg).repeat_interleave(g.rowptr[1:] - g.rowptr[:-1]), n)
    return Adjacency(a, a.t().to_sparse_csr())


class GCN(torch.nn.Module):
    def __init__(self, fan_in, fan_out):
        super().__init__()
        self.lin = torch.nn.Linear(fan_in, fan_out, bias=False)
        self.bias = torch.nn.Parameter(torch.zeros(fan_out))

    def forward(self, adj, x):
        if self.lin.out_features < self.lin.in_features:
            return adj @ self.lin(x) + self.bias
        return self.lin(adj @ x) + self.bias


class SAGE(torch.nn.Module):
    """W_n mean_{in-neighbours} x + W_r x + b."""

    def __init__(self, fan_in, fan_out):
        super().__init__()
        self.lin_n = torch.nn.Linear(fan_in, fan_out, bias=True)
        self.lin_r = torch.nn.Linear(fan_in, fan_out, bias=False)

    def forward(self, adj, x):
        if self.lin_n.out_features < self.lin_n.in_features:
            return adj @ (x @ self.lin_n.weight.t()) + self.lin_n.bias + self.lin_r(x)
        return self.lin_n(adj @ x) + self.lin_r(x)


def build(args, g):
    layer, adj = (GCN, gcn_adjacency(g)) if args.model == "gcn" else (SAGE, mean_adjacency(g))
    return harness.Stack([layer(i, o) for i, o in harness.widths(args, g)], args.dropout,
                         lambda conv, x: conv(adj, x))


if __name__ == "__main__":
    harness.run("torch-csr", __doc__, build)
