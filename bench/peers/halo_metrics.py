"""Turns a `halo train --metrics` file into the peers' JSON records.

  halo_metrics.py epoch M.jsonl --peer P --model M --graph G   median epoch_seconds, peak RSS
  halo_metrics.py target M.jsonl [--fraction 0.95]              fraction x best val_acc
  halo_metrics.py tta M.jsonl --target T --peer P --graph G     training seconds to val_acc >= T

Halo's epoch_seconds exclude evaluation (eval_seconds is apart), and under mpirun they are the
slowest rank's; peak_rss_bytes is the largest rank's, peak_rss_bytes_total all ranks' together.
"""
import argparse
import json
import statistics


def read(path):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        raise SystemExit(f"{path}: no epochs in the metrics file")
    return rows


def evaluated(rows):
    return [r for r in rows if "val_acc" in r]


def epoch_record(rows, a):
    last = evaluated(rows)
    return {
        "peer": a.peer,
        "model": a.model,
        "graph": a.graph,
        "median_epoch_s": statistics.median(r["epoch_seconds"] for r in rows),
        "peak_rss_bytes": int(max(r["peak_rss_bytes"] for r in rows)),
        "epochs": len(rows),
        "val_acc_final": last[-1]["val_acc"] if last else None,
        "loss_final": rows[-1]["loss"],
        "ranks": rows[-1].get("ranks", 1),
    }


def tta_record(rows, a):
    trained, reached = 0.0, None
    for r in rows:
        trained += r["epoch_seconds"]
        if r.get("val_acc", -1) >= a.target:
            reached = dict(seconds_to_target=trained, epochs_to_target=r["epoch"] + 1, val_acc_at_target=r["val_acc"])
            break
    return {
        "peer": a.peer,
        "model": a.model,
        "graph": a.graph,
        "target_val_acc": a.target,
        **(reached or dict(seconds_to_target=None, epochs_to_target=None, val_acc_at_target=None)),
        "best_val_acc": max((r["val_acc"] for r in evaluated(rows)), default=None),
        "median_epoch_s": statistics.median(r["epoch_seconds"] for r in rows),
        "peak_rss_bytes": int(max(r["peak_rss_bytes"] for r in rows)),
        # All ranks together, what one machine holds: mean over ranks x ranks.
        "peak_rss_bytes_total": int(max(r.get("peak_rss_bytes_mean", r["peak_rss_bytes"]) * r.get("ranks", 1)
                                        for r in rows)),
        "epochs": len(rows),
        "ranks": rows[-1].get("ranks", 1),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["epoch", "target", "tta"])
    p.add_argument("metrics")
    p.add_argument("--peer", default="halo")
    p.add_argument("--model", default="sage")
    p.add_argument("--graph", default="")
    p.add_argument("--fraction", type=float, default=0.95)
    p.add_argument("--target", type=float)
    a = p.parse_args()
    rows = read(a.metrics)
    if a.what == "target":
        accs = [r["val_acc"] for r in evaluated(rows)]
        if not accs:
            raise SystemExit(f"{a.metrics}: no evaluated epoch (val_acc) to take a target from")
        print(f"{a.fraction * max(accs):.6f}")
    elif a.what == "epoch":
        print(json.dumps(epoch_record(rows, a)))
    else:
        if a.target is None:
            p.error("tta needs --target")
        print(json.dumps(tta_record(rows, a)))


if __name__ == "__main__":
    main()
