"""One benchmark process: PyTorch's side of bench/run, the same work as bench/zoograd_bench.cpp.

Fashion-MNIST stays uint8 in memory and each batch is normalized when it is made, as zoograd does;
the models, optimizer, batch size, shuffling and inference batches match. Prints one JSON object.
"""
import argparse
import gzip
import json
import math
import os
import resource
import struct
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from compare_steps import read_safetensors as read_arrays  # numpy arrays by name, in file order


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    found, = struct.unpack(">I", raw[:4])
    if found != magic:
        raise ValueError(f"{path}: magic {found}, expected {magic}")
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return torch.from_numpy(np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims).copy())


def load(folder):
    def pair(prefix):
        return (read_idx(f"{folder}/{prefix}-images-idx3-ubyte.gz", 2051),
                read_idx(f"{folder}/{prefix}-labels-idx1-ubyte.gz", 2049).long())
    return pair("train"), pair("t10k")


def read_safetensors(path):
    """The tensors of a safetensors file, in file order (what zoograd_bench init writes)."""
    return [(name, torch.from_numpy(values.copy())) for name, values in read_arrays(path).items()]


def write_safetensors(path, tensors):
    """tensors: (name, torch tensor) pairs, written in order (float32, float64 or int64)."""
    dtypes = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        data = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": dtypes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def resume_from(model, optimizer, path):
    """Takes over a run that zoograd_bench --steps S --dump FILE stopped at step S: its parameters,
    BatchNorm statistics and momentum buffers, by name. Returns S."""
    tensors = dict(read_safetensors(path))
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            t.copy_(tensors[name])
        for name, p in model.named_parameters():
            if "momentum." + name in tensors:
                optimizer.state[p]["momentum_buffer"] = tensors["momentum." + name].to(p.dtype).clone()
    return int(tensors["step"][0])


def dump_state(path, model, loss):
    """What zoograd_bench --dump writes: parameters (each followed by its last gradient), buffers and the loss.
    The names are the Sequential's, which are zoograd's (the layers have the same positions)."""
    tensors = []
    for name, p in model.named_parameters():
        tensors.append((name, p))
        if p.grad is not None:
            tensors.append(("grad." + name, p.grad))
    tensors += list(model.named_buffers())
    if loss is not None:  # none when resumed for no steps
        tensors.append(("loss", loss.detach().reshape(1)))
    write_safetensors(path, tensors)


def start_from(model, path, epochs):
    """Copies zoograd's initial weights (by position and shape) into model; returns the batch order."""
    tensors = read_safetensors(path)
    named = dict(tensors)
    params = list(model.parameters())
    weights = [t for name, t in tensors if name != "order"]
    if len(weights) != len(params) or any(w.shape != p.shape for w, p in zip(weights, params)):
        raise ValueError(f"{path}: weights {[tuple(w.shape) for w in weights]} do not fit the model's "
                         f"{[tuple(p.shape) for p in params]}; write it with zoograd_bench init for this model")
    with torch.no_grad():
        for w, p in zip(weights, params):
            p.copy_(w)
    order = named["order"]
    if order.shape[0] < epochs:
        raise ValueError(f"{path}: batch order for {order.shape[0]} epochs, {epochs} asked; write it with --epochs {epochs}")
    return order


class ArcFaceHead(nn.Module):
    """A cosine head, cos θ_j = x̂·Ŵ_j (zoograd's CosineLinear)."""

    def __init__(self, features, classes):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(classes, features))

    def forward(self, x):
        return F.linear(F.normalize(x, eps=1e-12), F.normalize(self.weight, eps=1e-12))


def arcface_loss(cos, y, s, m):
    """ArcFace (zoograd's arcface_loss): the target logit s·cos(θ_y + m), or s·(cos θ_y − m·sin m) past θ_y + m = π."""
    c = cos.gather(1, y[:, None])
    sin = (1.0 - c * c).clamp_min(1e-12).sqrt()
    target = torch.where(c > math.cos(math.pi - m), c * math.cos(m) - sin * math.sin(m), c - m * math.sin(m))
    return F.cross_entropy((s * cos).scatter(1, y[:, None], s * target), y)


def build(name, head="softmax"):
    if name == "atlas":  # zoograd's margins_backbone with 2-D features, then the head
        layers = []
        channels = 1
        for out, kernel in ((8, 5), (16, 5), (32, 3)):
            layers += [nn.Conv2d(channels, out, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(out), nn.PReLU(),
                       nn.MaxPool2d(2)]
            channels = out
        layers += [nn.Flatten(), nn.Linear(32 * 3 * 3, 64, bias=False), nn.BatchNorm1d(64), nn.PReLU(), nn.Linear(64, 2),
                   nn.BatchNorm1d(2)]
        layers.append(ArcFaceHead(2, 10) if head == "arcface" else nn.Linear(2, 10))
        return nn.Sequential(*layers)
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(inplace=True), nn.Linear(512, 256), nn.ReLU(inplace=True),
                             nn.Linear(256, 10))
    return nn.Sequential(nn.Conv2d(1, 16, 5), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5), nn.ReLU(inplace=True),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10))


def train_task(name, folder, epochs, seed, init, head, steps=0, dump=None, dtype=torch.float32, resume=None):
    (x_train, y_train), (x_test, y_test) = load(folder)
    torch.manual_seed(seed)
    # zoograd's pixel_stats: the mean and the (biased) standard deviation of p/255 in double, here
    # from the counts of the 256 values, so that the two frameworks normalize by the same numbers.
    counts = torch.bincount(x_train.flatten(), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64) / 255
    mean = (counts * values).sum().item() / x_train.numel()
    std = math.sqrt(max((counts * values * values).sum().item() / x_train.numel() - mean * mean, 0.0))

    def batch(x, idx):
        return x[idx].unsqueeze(1).to(dtype).div_(255).sub_(mean).div_(std)

    model = build(name, head)
    order = start_from(model, init, epochs) if init else None
    model.to(dtype)
    if name == "atlas":  # zoograd_bench's settings: lr 0.05, weight decay 5e-4, batch 64
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
        batch_size = 64
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        batch_size = 128
    steps_per_epoch = (len(y_train) + batch_size - 1) // batch_size
    step = 0
    start_step = resume_from(model, optimizer, resume) if resume else 0  # the batches before it are skipped

    def loss_of(idx):
        scores = model(batch(x_train, idx))
        if head != "arcface":
            return F.cross_entropy(scores, y_train[idx])
        # The margin grows over the first epoch, as zoograd's Objective::warm_up_margins does.
        return arcface_loss(scores, y_train[idx], 10.0, 0.2 * min(1.0, step / steps_per_epoch))

    epoch_seconds, inference_seconds, accuracy = [], [], 0.0
    loss = None
    for epoch in range(epochs):
        if steps and step == steps:
            break
        start = time.perf_counter()
        model.train()
        for idx in (order[epoch] if init else torch.randperm(len(y_train))).split(batch_size):
            if steps and step == steps:
                break
            if step < start_step:
                step += 1
                continue
            loss = loss_of(idx)
            step += 1
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.eval()
        correct = 0
        with torch.no_grad():
            for idx in torch.arange(len(y_test)).split(1000):
                correct += (model(batch(x_test, idx)).argmax(1) == y_test[idx]).sum().item()
        inference_seconds.append(time.perf_counter() - start)
        accuracy = correct / len(y_test)
    result = {"task": name, "epoch_seconds": epoch_seconds, "inference_seconds": inference_seconds,
              "train_images": len(y_train), "test_images": len(y_test), "test_accuracy": accuracy}
    if name == "atlas":
        result["head"] = head
    if steps:
        result["steps"] = step
    if dump:
        dump_state(dump, model, loss)
    return result


def load_task(folder, repeats):
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        (x_train, _), (x_test, _) = load(folder)
        seconds.append(time.perf_counter() - start)
    return {"task": "load", "load_seconds": seconds, "images": len(x_train) + len(x_test)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("task", choices=["mlp", "cnn", "atlas", "load"])
    parser.add_argument("--head", choices=["softmax", "arcface"], default="softmax", help="atlas: the head and loss")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", help="start from zoograd's initial weights and batch order (zoograd_bench init)")
    parser.add_argument("--steps", type=int, default=0, help="stop after this many optimizer steps (0: all epochs)")
    parser.add_argument("--float64", action="store_true", help="train in float64 (a reference nearly free of rounding)")
    parser.add_argument("--resume", help="take over at the step where zoograd_bench --steps S --dump FILE stopped "
                        "(with --init for the batch order)")
    parser.add_argument("--dump", help="write the parameters, buffers, last gradients and loss to this safetensors file")
    args = parser.parse_args()
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    result = load_task(args.data, args.epochs) if args.task == "load" else \
        train_task(args.task, args.data, args.epochs, args.seed, args.init, args.head, args.steps, args.dump,
                   torch.float64 if args.float64 else torch.float32, args.resume)
    result.update(framework="pytorch", openblas_num_threads=os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
                  torch_threads=torch.get_num_threads(),
                  peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
