"""Turns bench/run's raw.jsonl into results.md and results.json: medians, min–max and ratios.

Each process's first epoch (or first load) is excluded; the rest are pooled over repetitions.
Usage: report.py RAW_JSONL OUT_DIR
"""
import json
import statistics
import sys

# (row, measure, target ratio zoograd/PyTorch or None)
TARGETS = {("mlp", "epoch", 1): 0.92, ("mlp", "epoch", 2): 0.8, ("cnn", "epoch", 1): 1.0, ("cnn", "epoch", 2): 1.0,
           ("mlp", "inference", 1): 1.0, ("mlp", "inference", 2): 1.0, ("cnn", "inference", 1): 1.0,
           ("cnn", "inference", 2): 1.0, ("load", "load", 1): 1.0, ("load", "load", 2): 1.0,
           ("cnn", "peak memory", 1): 0.3, ("cnn", "peak memory", 2): 0.3}
FLOOR_TARGET = 1.10
MLP_MEMORY_TARGET_MIB = 200


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def main():
    raw, out = sys.argv[1], sys.argv[2]
    lines = [json.loads(line) for line in open(raw) if line.strip()]
    machine = lines[0]["machine"]
    runs = lines[1:]
    rows = []
    for threads in sorted({r["threads"] for r in runs}):
        at = [r for r in runs if r["threads"] == threads]
        floor = [s for r in at if r["framework"] == "gemm-floor" for s in r["epoch_seconds"]]
        for task in ("mlp", "cnn", "load"):
            by = {fw: [r for r in at if r["framework"] == fw and r["task"] == task] for fw in ("zoograd", "pytorch")}
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
            row["ok"] = abs(row["difference"]) <= 0.01
            continue
        row["ratio"] = row["zoograd"]["median"] / row["pytorch"]["median"]
        target = TARGETS.get((row["task"], row["measure"], row["threads"]))
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

    def cell(s, unit):
        if unit == "":
            return f"{s['median']:.4f}"
        fmt = "{:.0f}" if unit == "MiB" else "{:.3f}"
        return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])}){' MiB' if unit == 'MiB' else ''}"

    md = ["| work | threads | zoograd | PyTorch | zoograd / PyTorch | GEMM floor | zoograd / floor (PyTorch / floor) | target |",
          "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        unit = " s" if r["unit"] == "s" else ""
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else f"{r['difference']:+.4f}"
        floor = f"{cell(r['floor'], 's')} s" if "floor" in r else ""
        over = f"{r['zoograd_over_floor']:.2f} ({r['pytorch_over_floor']:.2f})" if "floor" in r else ""
        goal = []
        if "target_ratio" in r:
            goal.append(f"≤ {r['target_ratio']:.2f}× PyTorch")
        if "floor" in r and r["threads"] == 1:
            goal.append(f"≤ {FLOOR_TARGET:.2f}× floor")
        if r["task"] == "mlp" and r["measure"] == "peak memory":
            goal.append(f"≤ {MLP_MEMORY_TARGET_MIB} MiB")
        if r["measure"] == "test accuracy":
            goal.append("within 0.01")
        mark = "" if "ok" not in r else (" ✓" if r["ok"] else " ✗")
        md.append(f"| {r['task']} {r['measure']} | {r['threads']} | {cell(r['zoograd'], r['unit'])}{unit} | "
                  f"{cell(r['pytorch'], r['unit'])}{unit} | {ratio} | {floor} | {over} | {', '.join(goal)}{mark} |")
    md.append("")
    md.append(f"Machine: {machine['cpu']}, {machine['cores']} cores; OpenBLAS {machine['openblas']} (pthread), "
              f"OPENBLAS_CORETYPE {machine['openblas_coretype']}; PyTorch {machine['torch']}. "
              f"{machine['reps']} alternating repetitions of {machine['epochs']} epochs per process, the first "
              "excluded; median (min–max). PyTorch at 2 threads runs with OMP_WAIT_POLICY=PASSIVE.")
    text = "\n".join(md) + "\n"
    with open(f"{out}/results.md", "w") as f:
        f.write(text)
    with open(f"{out}/results.json", "w") as f:
        json.dump({"machine": machine, "rows": rows}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
