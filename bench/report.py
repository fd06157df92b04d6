"""Turns bench/run's raw.jsonl into results.md and results.json: medians, min–max and ratios.

Each process's first epoch (or first load) is excluded; the rest are pooled over repetitions.
Two tables: the MLP, CNN and loading times, and the margin atlas's network (per head) in images
per second, with the GFLOP/s it achieves against the machine's FMA peak.
Usage: report.py RAW_JSONL OUT_DIR
"""
import json
import statistics
import sys

# (task, measure, threads) -> largest zoograd/PyTorch time ratio
TIME_TARGETS = {("mlp", "epoch", 1): 0.75, ("mlp", "epoch", 2): 0.75, ("cnn", "epoch", 1): 0.70, ("cnn", "epoch", 2): 0.60,
                ("mlp", "inference", 1): 1.0, ("mlp", "inference", 2): 1.0, ("cnn", "inference", 1): 1.0,
                ("cnn", "inference", 2): 1.0, ("load", "load", 1): 1.0, ("load", "load", 2): 1.0,
                ("cnn", "peak memory", 1): 0.3, ("cnn", "peak memory", 2): 0.3}
FLOOR_TARGET = 1.10
MLP_MEMORY_TARGET_MIB = 200
ACCURACY_POINTS = {"mlp": 0.01, "cnn": 0.01}  # largest |zoograd - PyTorch| test accuracy
ATLAS_SPEEDUP = 2.0  # smallest zoograd/PyTorch images/s, training and inference
ATLAS_ACCURACY = 0.005


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def task_of(run):
    return f"{run['task']}-{run['head']}" if run.get("head") else run["task"]


def time_rows(runs, threads):
    at = [r for r in runs if r["threads"] == threads]
    floor = [s for r in at if r["framework"] == "gemm-floor" for s in r["epoch_seconds"]]
    rows = []
    for task in ("mlp", "cnn", "load"):
        by = {fw: [r for r in at if r["framework"] == fw and task_of(r) == task] for fw in ("zoograd", "pytorch")}
        if not by["zoograd"] or not by["pytorch"]:
            continue
        measures = [("load", "load_seconds", "s")] if task == "load" else \
            [("epoch", "epoch_seconds", "s"), ("inference", "inference_seconds", "s")]
        for measure, key, unit in measures:
            vals = {fw: summary([v for r in rs for v in r[key][1:]]) for fw, rs in by.items()}
            rows.append(dict(task=task, measure=measure, threads=threads, unit=unit, **vals))
            if task == "mlp" and measure == "epoch" and floor:
                rows[-1]["floor"] = summary(floor)
        if task != "load":
            vals = {fw: summary([r["peak_rss_mib"] for r in rs]) for fw, rs in by.items()}
            rows.append(dict(task=task, measure="peak memory", threads=threads, unit="MiB", **vals))
            acc = {fw: statistics.mean(r["test_accuracy"] for r in rs) for fw, rs in by.items()}
            rows.append(dict(task=task, measure="test accuracy", threads=threads, unit="",
                             **{fw: {"median": a, "min": a, "max": a, "n": len(by[fw])} for fw, a in acc.items()}))
    for row in rows:
        if row["measure"] == "test accuracy":
            row["difference"] = row["zoograd"]["median"] - row["pytorch"]["median"]
            row["ok"] = abs(row["difference"]) <= ACCURACY_POINTS[row["task"]]
            continue
        row["ratio"] = row["zoograd"]["median"] / row["pytorch"]["median"]
        target = TIME_TARGETS.get((row["task"], row["measure"], row["threads"]))
        checks = []
        if target is not None:
            row["target_ratio"] = target
            checks.append(row["ratio"] <= target)
        if "floor" in row:
            row["zoograd_over_floor"] = row["zoograd"]["median"] / row["floor"]["median"]
            row["pytorch_over_floor"] = row["pytorch"]["median"] / row["floor"]["median"]
            if row["threads"] == 1:
                checks.append(row["zoograd_over_floor"] <= FLOOR_TARGET)
        if row["task"] == "mlp" and row["measure"] == "peak memory":
            checks.append(row["zoograd"]["median"] <= MLP_MEMORY_TARGET_MIB)
        if checks:
            row["ok"] = all(checks)
    return rows


def per_second(runs, key, count):
    """Images per second of each epoch (or pass) after each process's first."""
    return [r[count] / s for r in runs for s in r[key][1:]]


def atlas_rows(runs, threads, all_runs):
    """The atlas network per head: training and inference images/s, against PyTorch's best of its
    thread counts up to this one, with GFLOP/s against the FMA peak measured at this thread count."""
    peak = [r["gflops"] for r in runs if r["framework"] == "fma-peak" and r["threads"] == threads]
    rows = []
    for task in sorted({task_of(r) for r in runs if r["task"] == "atlas"}):
        zg = [r for r in runs if r["framework"] == "zoograd" and task_of(r) == task and r["threads"] == threads]
        if not zg:
            continue
        row = {"task": task, "threads": threads}
        for measure, key, count, flops in (("training", "epoch_seconds", "train_images", "training"),
                                           ("inference", "inference_seconds", "test_images", "inference")):
            ours = summary(per_second(zg, key, count))
            # PyTorch's best configuration: its fastest thread count up to this one.
            theirs = None
            for t in range(1, threads + 1):
                pt = [r for r in all_runs if r["framework"] == "pytorch" and task_of(r) == task and r["threads"] == t]
                if pt:
                    s = summary(per_second(pt, key, count))
                    if theirs is None or s["median"] > theirs["median"]:
                        theirs = dict(s, threads=t)
            entry = {"zoograd": ours, "pytorch": theirs}
            entry["gflops"] = ours["median"] * zg[0]["flops_per_image"][flops] / 1e9
            if peak:
                entry["peak_gflops"] = statistics.median(peak)
                entry["of_peak"] = entry["gflops"] / entry["peak_gflops"]
            if theirs:
                entry["speedup"] = ours["median"] / theirs["median"]
                entry["ok"] = entry["speedup"] >= ATLAS_SPEEDUP
            row[measure] = entry
        pt_same = [r for r in all_runs if r["framework"] == "pytorch" and task_of(r) == task and r["threads"] == threads]
        row["accuracy"] = {"zoograd": statistics.mean(r["test_accuracy"] for r in zg)}
        if pt_same:
            row["accuracy"]["pytorch"] = statistics.mean(r["test_accuracy"] for r in pt_same)
            row["accuracy"]["difference"] = row["accuracy"]["zoograd"] - row["accuracy"]["pytorch"]
            row["accuracy"]["ok"] = abs(row["accuracy"]["difference"]) <= ATLAS_ACCURACY
        rows.append(row)
    return rows


def mark(ok):
    return "" if ok is None else (" ✓" if ok else " ✗")


def cell(s, unit):
    if unit == "":
        return f"{s['median']:.4f}"
    fmt = "{:.0f}" if unit in ("MiB", "images/s") else "{:.3f}"
    suffix = {"MiB": " MiB", "s": " s", "images/s": ""}[unit]
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])}){suffix}"


def time_table(rows):
    md = ["| work | threads | zoograd | PyTorch | zoograd / PyTorch | GEMM floor | zoograd / floor (PyTorch / floor) | target |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else f"{r['difference']:+.4f}"
        floor = cell(r["floor"], "s") if "floor" in r else ""
        over = f"{r['zoograd_over_floor']:.2f} ({r['pytorch_over_floor']:.2f})" if "floor" in r else ""
        goal = []
        if "target_ratio" in r:
            goal.append(f"≤ {r['target_ratio']:.2f}× PyTorch")
        if "floor" in r and r["threads"] == 1:
            goal.append(f"≤ {FLOOR_TARGET:.2f}× floor")
        if r["task"] == "mlp" and r["measure"] == "peak memory":
            goal.append(f"≤ {MLP_MEMORY_TARGET_MIB} MiB")
        if r["measure"] == "test accuracy":
            goal.append(f"within {ACCURACY_POINTS[r['task']]:.2f}")
        md.append(f"| {r['task']} {r['measure']} | {r['threads']} | {cell(r['zoograd'], r['unit'])} | "
                  f"{cell(r['pytorch'], r['unit'])} | {ratio} | {floor} | {over} | {', '.join(goal)}{mark(r.get('ok'))} |")
    return md


def atlas_table(rows):
    md = ["| atlas network, head | threads | work | zoograd images/s | PyTorch images/s (its threads) | zoograd / PyTorch | "
          "zoograd GFLOP/s (of FMA peak) | target |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for measure in ("training", "inference"):
            e = r[measure]
            theirs = f"{cell(e['pytorch'], 'images/s')} ({e['pytorch']['threads']})" if e["pytorch"] else ""
            speed = f"{e['speedup']:.2f}" if "speedup" in e else ""
            flops = f"{e['gflops']:.1f}" + (f" ({100 * e['of_peak']:.0f}% of {e['peak_gflops']:.0f})" if "of_peak" in e else "")
            md.append(f"| {r['task']} | {r['threads']} | {measure} | {cell(e['zoograd'], 'images/s')} | {theirs} | {speed} | "
                      f"{flops} | ≥ {ATLAS_SPEEDUP:.1f}× PyTorch{mark(e.get('ok'))} |")
        a = r["accuracy"]
        if "pytorch" in a:
            md.append(f"| {r['task']} | {r['threads']} | test accuracy | {a['zoograd']:.4f} | {a['pytorch']:.4f} | "
                      f"{a['difference']:+.4f} |  | within {ATLAS_ACCURACY:.3f}{mark(a['ok'])} |")
    return md


def main():
    raw, out = sys.argv[1], sys.argv[2]
    lines = [json.loads(line) for line in open(raw) if line.strip()]
    machine = lines[0]["machine"]
    runs = lines[1:]
    thread_counts = sorted({r["threads"] for r in runs})
    rows = [row for t in thread_counts for row in time_rows(runs, t)]
    atlas = [row for t in thread_counts for row in atlas_rows(runs, t, runs)]
    md = time_table(rows) if rows else []
    if atlas:
        md += ([""] if md else []) + atlas_table(atlas)
    md.append("")
    md.append(f"Machine: {machine['cpu']}, {machine['cores']} cores; OpenBLAS {machine['openblas']} (pthread), "
              f"OPENBLAS_CORETYPE {machine['openblas_coretype']}; PyTorch {machine['torch']}. "
              f"{machine['reps']} alternating repetitions of {machine['epochs']} epochs per process, the first "
              "excluded; median (min–max). PyTorch at 2 threads runs with OMP_WAIT_POLICY=PASSIVE; the atlas "
              "rows compare against PyTorch's fastest thread count up to the row's.")
    text = "\n".join(md) + "\n"
    with open(f"{out}/results.md", "w") as f:
        f.write(text)
    with open(f"{out}/results.json", "w") as f:
        json.dump({"machine": machine, "rows": rows, "atlas": atlas}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
