"""Prints the benchmark's one markdown table from the JSON records the driver collected.

Epoch rows: median full-graph epoch seconds and peak RSS of Halo and of each peer, and
Halo / best peer (the fastest peer for time, the smallest for memory; below 1 favours Halo).
Time-to-accuracy rows: training seconds until the validation accuracy first reaches the target;
the NeighborLoader run sits in the pyg column, the Halo run the row names in the Halo column.
A run that ran out of memory shows OOM.
"""
import json
import sys

PEERS = ["pyg", "pyg-torch-csr", "pyg-sparse-tensor", "torch-csr", "dgl"]


def seconds(s):
    return "–" if s is None else f"{s:.3g}"


def mib(b):
    return "–" if b is None else f"{b / 2**20:,.0f} MiB"


def ratio(a, b):
    return "–" if a is None or not b else f"{a / b:.2f}"


def main(path):
    with open(path) as f:
        records = [json.loads(line) for line in f if line.strip().startswith("{")]
    tta = [r for r in records if "target_val_acc" in r or r["peer"] == "pyg-neighborloader"]
    epochs = [r for r in records if r not in tta]
    peers = [p for p in PEERS if any(r["peer"] == p for r in epochs)]
    peers += sorted({r["peer"] for r in epochs} - set(peers) - {"halo"})

    head = ["graph", "model", "Halo s", "Halo RSS"]
    for p in peers:
        head += [f"{p} s", f"{p} RSS"]
    head += ["Halo/best s", "Halo/best RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def row(graph, label, halo_s, halo_rss, by_peer):
        cells = [graph, label, seconds(halo_s), mib(halo_rss)]
        for p in peers:
            r = by_peer.get(p)
            cells += ["–", "–"] if not r else ["OOM", f"> {mib(r[1])}"] if r[2] else [seconds(r[0]), mib(r[1])]
        done = [v for v in by_peer.values() if not v[2]]
        times = [v[0] for v in done if v[0] is not None]
        mems = [v[1] for v in done if v[1] is not None]
        cells += [ratio(halo_s, min(times, default=None)), ratio(halo_rss, min(mems, default=None))]
        lines.append("| " + " | ".join(cells) + " |")

    keys = list(dict.fromkeys((r["graph"], r["model"]) for r in epochs))
    for graph, model in keys:
        mine = {r["peer"]: r for r in epochs if (r["graph"], r["model"]) == (graph, model)}
        halo = mine.pop("halo", {})
        row(graph, model, halo.get("median_epoch_s"), halo.get("peak_rss_bytes"),
            {p: (r.get("median_epoch_s"), r["peak_rss_bytes"], "error" in r) for p, r in mine.items()})

    loader = next((r for r in tta if r["peer"] == "pyg-neighborloader"), None)
    for h in (r for r in tta if r["peer"] != "pyg-neighborloader"):
        ranks = h.get("ranks", 1)
        label = (f"{h['model']}: s to val acc ≥ {h['target_val_acc']:.3f}; Halo {h['peer'][5:].replace('-', ' ')}, "
                 f"{h['epochs_to_target'] or '–'} epochs{f', RSS of all {ranks} ranks' if ranks > 1 else ''}; "
                 f"pyg = NeighborLoader")
        by_peer = {}
        if loader:
            by_peer["pyg"] = (loader.get("seconds_to_target"), loader["peak_rss_bytes"], "error" in loader)
        row(h["graph"], label, h["seconds_to_target"], h.get("peak_rss_bytes_total", h["peak_rss_bytes"]), by_peer)
    print("\n".join(lines))
    failed = [r for r in records if "error" in r]
    if failed:
        print("\nOOM: the run stopped on an allocation failure under its memory cap (RLIMIT_DATA, by default 90% of "
              "the memory available at its start); the RSS shown is its peak until then. " +
              "; ".join(f"{r['peer']} {r['model']} {r['graph']}: {r['detail']}" for r in failed))
    if loader and "error" not in loader:
        reached = "never reached" if loader["seconds_to_target"] is None else (
            f"reached at {loader['val_acc_at_target']:.3f} after {loader['batches_to_target']} batches "
            f"({loader['epochs_to_target']:.2f} epochs; {seconds(loader['wall_seconds_to_target'])} s wall with "
            f"the validation passes)")
        print(f"\nNeighborLoader (fanouts {loader['fanouts']}, batch {loader['batch_size']}): target "
              f"{loader['target_val_acc']:.3f} {reached}; best val acc {loader['best_val_acc']:.3f}, "
              f"median batch {seconds(loader['median_batch_s'])} s.")
    fixed = sorted({(r["peer"], r["import_rss_bytes"]) for r in records if "import_rss_bytes" in r})
    if fixed:
        print("Peers' RSS right after importing their libraries, before the graph (part of every peak): " +
              ", ".join(f"{p} {mib(b)}" for p, b in dict(fixed).items()) + ".")


if __name__ == "__main__":
    main(sys.argv[1])
