"""Checks of the benchmark's own logic (ctest runs it; timings are never asserted):
report.py's medians, exclusions, ratios and target marks on made-up runs, the JSON that
zoograd_bench and gemm_floor print, and the start (weights, batch order) zoograd_bench init writes. Usage: test_bench.py BENCH_BUILD_DIR
"""
import array
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(HERE, "..", "build", "release", "bench")
FASHION = "/usr/share/datasets/fashion-mnist"


def python_with_torch():
    """Debian's python3 (what bench/run starts torch_bench.py with) if it has torch and numpy, else None."""
    python = "/usr/bin/python3"
    if os.path.exists(python) and subprocess.run([python, "-c", "import torch, numpy"], capture_output=True).returncode == 0:
        return python
    return None


TORCH = python_with_torch()


def made_up_runs():
    machine = {"machine": {"cpu": "test", "cores": 2, "openblas": "0", "torch": "0", "openblas_coretype": "unset",
                           "reps": 2, "epochs": 3}}
    runs = [machine]
    for rep in (1, 2):
        runs.append({"framework": "gemm-floor", "task": "mlp", "epoch_seconds": [2.0, 2.0], "threads": 1, "rep": rep})
        # The first epoch (9.0) must be excluded: zoograd's median is 2.1, PyTorch's 3.0.
        runs.append({"framework": "zoograd", "task": "mlp", "epoch_seconds": [9.0, 2.1, 2.1],
                     "inference_seconds": [1.0, 0.1, 0.1], "test_accuracy": 0.85, "peak_rss_mib": 80.0,
                     "threads": 1, "rep": rep})
        runs.append({"framework": "pytorch", "task": "mlp", "epoch_seconds": [9.0, 3.0, 3.0],
                     "inference_seconds": [1.0, 0.2, 0.2], "test_accuracy": 0.87, "peak_rss_mib": 400.0,
                     "threads": 1, "rep": rep})
    return runs


def made_up_atlas_runs():
    """The atlas network with its softmax head: zoograd at 1 and 2 threads, PyTorch slower at 2 than at 1."""
    runs = []
    for rep in (1, 2):
        runs.append({"framework": "fma-peak", "task": "peak", "gflops": 100.0, "threads": 1, "rep": rep})
        runs.append({"framework": "fma-peak", "task": "peak", "gflops": 190.0, "threads": 2, "rep": rep})
        for threads, zg_epoch, pt_epoch in ((1, 20.0, 50.0), (2, 12.0, 60.0)):
            common = {"task": "atlas", "head": "softmax", "train_images": 60000, "test_images": 10000, "threads": threads,
                      "rep": rep}
            runs.append(dict(common, framework="zoograd", epoch_seconds=[99.0, zg_epoch, zg_epoch],
                             inference_seconds=[9.0, 2.0, 2.0], test_accuracy=0.80,
                             flops_per_image={"training": 5.75e6, "inference": 2.0e6}))
            runs.append(dict(common, framework="pytorch", epoch_seconds=[99.0, pt_epoch, pt_epoch],
                             inference_seconds=[9.0, 5.0, 5.0], test_accuracy=0.803))
    return runs


def report_of(runs, out):
    raw = os.path.join(out, "raw.jsonl")
    with open(raw, "w") as f:
        f.write("\n".join(json.dumps(r) for r in runs) + "\n")
    subprocess.run([sys.executable, os.path.join(HERE, "report.py"), raw, out], check=True, capture_output=True)
    return json.load(open(os.path.join(out, "results.json"))), open(os.path.join(out, "results.md")).read()


class Report(unittest.TestCase):
    def test_ratios_exclusions_and_targets(self):
        with tempfile.TemporaryDirectory() as out:
            raw = os.path.join(out, "raw.jsonl")
            with open(raw, "w") as f:
                f.write("\n".join(json.dumps(r) for r in made_up_runs()) + "\n")
            subprocess.run([sys.executable, os.path.join(HERE, "report.py"), raw, out], check=True,
                           capture_output=True)
            rows = {(r["task"], r["measure"]): r for r in json.load(open(os.path.join(out, "results.json")))["rows"]}
            epoch = rows[("mlp", "epoch")]
            self.assertAlmostEqual(epoch["zoograd"]["median"], 2.1)
            self.assertEqual(epoch["zoograd"]["n"], 4)  # 2 processes × 2 epochs after the first
            self.assertAlmostEqual(epoch["ratio"], 0.7)
            self.assertAlmostEqual(epoch["zoograd_over_floor"], 1.05)
            self.assertTrue(epoch["ok"])  # ≤ 0.75× PyTorch and ≤ 1.10× the floor
            self.assertAlmostEqual(rows[("mlp", "inference")]["ratio"], 0.5)
            self.assertTrue(rows[("mlp", "peak memory")]["ok"])  # 80 MiB ≤ 200 MiB
            accuracy = rows[("mlp", "test accuracy")]
            self.assertAlmostEqual(accuracy["difference"], -0.02)
            self.assertFalse(accuracy["ok"])  # more than a point apart
            table = open(os.path.join(out, "results.md")).read()
            self.assertIn("| mlp epoch | 1 | 2.100 (2.100–2.100) s | 3.000 (3.000–3.000) s | 0.70 |", table)


    def test_atlas_images_per_second_against_pytorchs_best_thread_count(self):
        with tempfile.TemporaryDirectory() as out:
            results, table = report_of(made_up_runs()[:1] + made_up_atlas_runs(), out)
        one, two = sorted(results["atlas"], key=lambda r: r["threads"])
        self.assertAlmostEqual(one["training"]["zoograd"]["median"], 3000)  # 60000 images / 20 s, first epoch excluded
        self.assertAlmostEqual(one["training"]["speedup"], 2.5)
        self.assertTrue(one["training"]["ok"])
        self.assertAlmostEqual(one["training"]["gflops"], 17.25)  # 3000 images/s × 5.75 MFLOP
        self.assertAlmostEqual(one["training"]["of_peak"], 0.1725)
        self.assertAlmostEqual(one["inference"]["speedup"], 2.5)  # 5000 against 2000 images/s
        # At 2 threads PyTorch is faster on one thread (1200 against 1000 images/s): that is its best.
        self.assertEqual(two["training"]["pytorch"]["threads"], 1)
        self.assertAlmostEqual(two["training"]["speedup"], 5000 / 1200)
        self.assertAlmostEqual(one["accuracy"]["difference"], -0.003)
        self.assertTrue(one["accuracy"]["ok"])
        self.assertIn("| atlas-softmax | 1 | training | 3000 (3000–3000) | 1200 (1200–1200) (1) | 2.50 | 17.2 (17% of 100) |",
                      table)


class Programs(unittest.TestCase):
    def test_fma_peak_prints_a_rate(self):
        line = subprocess.run([os.path.join(BUILD, "fma_peak"), "1"], check=True, capture_output=True, text=True).stdout
        self.assertGreater(json.loads(line)["gflops"], 1)

    def test_fma_peak_rejects_a_bad_thread_count(self):
        run = subprocess.run([os.path.join(BUILD, "fma_peak"), "0"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 1)
        self.assertIn("THREADS must be between 1 and 256, got 0", run.stderr)

    def test_gemm_floor_prints_one_time_per_repeat(self):
        line = subprocess.run([os.path.join(BUILD, "gemm_floor"), "2"], check=True, capture_output=True,
                              text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1")).stdout
        result = json.loads(line)
        self.assertEqual(len(result["epoch_seconds"]), 2)
        self.assertTrue(all(s > 0 for s in result["epoch_seconds"]))

    def test_gemm_floor_rejects_a_bad_repeat_count(self):
        run = subprocess.run([os.path.join(BUILD, "gemm_floor"), "0"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 1)
        self.assertIn("repeats must be at least 1, got 0", run.stderr)

    @unittest.skipUnless(os.path.isdir(FASHION), "dataset-fashion-mnist is not installed")
    def test_zoograd_bench_loads_fashion_mnist(self):
        line = subprocess.run([os.path.join(BUILD, "zoograd_bench"), "load", "--epochs", "2"], check=True,
                              capture_output=True, text=True).stdout
        result = json.loads(line)
        self.assertEqual(result["images"], 70000)
        self.assertEqual(len(result["load_seconds"]), 2)
        self.assertGreater(result["peak_rss_mib"], 50)  # the 55 MB of pixels are resident

    @unittest.skipUnless(os.path.isdir(FASHION), "dataset-fashion-mnist is not installed")
    def test_zoograd_bench_init_writes_the_weights_and_each_epochs_order(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "start.safetensors")
            subprocess.run([os.path.join(BUILD, "zoograd_bench"), "init", "--model", "mlp", "--epochs", "2", "--seed",
                            "5", "--out", path], check=True, capture_output=True)
            with open(path, "rb") as f:
                raw = f.read()
        size = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + size])
        header.pop("__metadata__", None)
        names = sorted(header, key=lambda n: header[n]["data_offsets"][0])
        shapes = [header[n]["shape"] for n in names]
        self.assertEqual(shapes, [[512, 784], [512], [256, 512], [256], [10, 256], [10], [2, 60000]])
        self.assertEqual(names[-1], "order")
        begin, end = header["order"]["data_offsets"]
        order = array.array("q", raw[8 + size + begin:8 + size + end])
        for epoch in (order[:60000], order[60000:]):
            self.assertEqual(sorted(epoch), list(range(60000)))  # each epoch a permutation
        self.assertNotEqual(order[:60000], order[60000:])

    @unittest.skipUnless(os.path.isdir(FASHION), "dataset-fashion-mnist is not installed")
    def test_zoograd_bench_init_writes_the_atlas_networks_start(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "start.safetensors")
            subprocess.run([os.path.join(BUILD, "zoograd_bench"), "init", "--model", "atlas", "--head", "arcface",
                            "--epochs", "1", "--out", path], check=True, capture_output=True)
            with open(path, "rb") as f:
                raw = f.read()
        size = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + size])
        header.pop("__metadata__", None)
        shapes = [header[n]["shape"] for n in sorted(header, key=lambda n: header[n]["data_offsets"][0])]
        # conv, BatchNorm2d (weight, bias), PReLU three times; linear, BatchNorm1d, PReLU; linear, BatchNorm1d;
        # the cosine head; the order.
        self.assertEqual(shapes, [[8, 1, 5, 5], [8], [8], [1], [16, 8, 5, 5], [16], [16], [1], [32, 16, 3, 3], [32], [32],
                                  [1], [64, 288], [64], [64], [1], [2, 64], [2], [2], [2], [10, 2], [1, 60000]])

    @unittest.skipUnless(os.path.isdir(FASHION), "dataset-fashion-mnist is not installed")
    def test_zoograd_bench_dumps_its_state_after_some_steps(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "state.safetensors")
            line = subprocess.run([os.path.join(BUILD, "zoograd_bench"), "atlas", "--head", "arcface", "--epochs", "1",
                                   "--steps", "2", "--dump", path], check=True, capture_output=True, text=True).stdout
            self.assertEqual(json.loads(line)["steps"], 2)
            with open(path, "rb") as f:
                raw = f.read()
        size = int.from_bytes(raw[:8], "little")
        header = json.loads(raw[8:8 + size])
        for name in ("0.weight", "grad.0.weight", "momentum.0.weight", "1.running_var", "18.weight", "loss", "step"):
            self.assertIn(name, header)
        begin, _ = header["step"]["data_offsets"]
        self.assertEqual(int.from_bytes(raw[8 + size + begin:8 + size + begin + 8], "little"), 2)
        self.assertEqual(header["17.num_batches_tracked"]["dtype"], "I64")

    @unittest.skipUnless(os.path.isdir(FASHION) and TORCH, "needs dataset-fashion-mnist and Debian's python3-torch")
    def test_pytorch_takes_the_same_steps_as_zoograd(self):
        """Both sides in float64 from the same start, three ArcFace steps (the margin already growing): the
        parameters, BatchNorm statistics, last gradients and loss agree to rounding (measured: 1e-9
        relative; a difference in the arithmetic, the margin's schedule or the batches shows at 1e-3 and up)."""
        with tempfile.TemporaryDirectory() as tmp:
            init, ours, theirs = (os.path.join(tmp, n) for n in ("init.safetensors", "zg.safetensors", "pt.safetensors"))
            common = ["atlas", "--head", "arcface", "--epochs", "1", "--seed", "3"]
            subprocess.run([os.path.join(BUILD, "zoograd_bench"), "init", "--model", "atlas", "--head", "arcface",
                            "--epochs", "1", "--seed", "3", "--out", init], check=True, capture_output=True)
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
            subprocess.run([os.path.join(BUILD, "zoograd_bench")] + common + ["--steps", "3", "--float64", "--dump", ours],
                           check=True, capture_output=True, env=env)
            subprocess.run([TORCH, os.path.join(HERE, "torch_bench.py")] + common +
                           ["--init", init, "--steps", "3", "--float64", "--dump", theirs], check=True, capture_output=True,
                           env=env)
            rows = json.loads(subprocess.run([TORCH, os.path.join(HERE, "compare_steps.py"), "--json", ours, theirs],
                                             check=True, capture_output=True, text=True).stdout)
        names = [r["name"] for r in rows]
        self.assertIn("grad.18.weight", names)
        self.assertIn("17.running_var", names)
        self.assertIn("loss", names)
        for row in rows:
            if row["name"] != "grad.16.bias":  # zero up to rounding: the BatchNorm after it removes any bias
                self.assertLess(row["relative"], 1e-6, row["name"])

    def test_zoograd_bench_init_needs_a_file(self):
        run = subprocess.run([os.path.join(BUILD, "zoograd_bench"), "init"], capture_output=True, text=True)
        self.assertEqual(run.returncode, 2)
        self.assertIn("init needs --out FILE", run.stderr)

    def test_zoograd_bench_rejects_an_unknown_task(self):
        run = subprocess.run([os.path.join(BUILD, "zoograd_bench"), "rnn"], capture_output=True, text=True)
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("rnn", run.stderr)


if __name__ == "__main__":
    unittest.main()
