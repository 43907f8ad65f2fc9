#!/usr/bin/python3
"""PyTorch's side of `dotnet run -c Release --project bench -- compare-pytorch`.

A long-lived worker driven by the C# bench (bench/ComparePyTorch.cs): it reads one JSON request per line on
stdin and answers one JSON line on stdout, so the two sides can alternate row by row without paying Python's
start-up and torch's import every time. Models, batches and DataLoaders are built once per configuration
and kept, as the C# side keeps its own. Everything printed on stdout is a reply; diagnostics go to stderr.

Requests (every one carries "op"):
  init     {threads}                            -> versions, threads, BLAS
  params   {model, size, classes}               -> parameter count
  train    {model, size, batch, classes, steps, optimizer, lr}  in-memory batches -> images, seconds
  infer    {model, size, batch, classes, steps}                 eval + no_grad     -> images, seconds
  e2e      {dir, size, batch, steps, workers, optimizer, lr}    ImageFolder + DataLoader + smallcnn training
  loader   {dir, size, batch, workers, [threads], [draft]}     one pass of ImageFolder + DataLoader, no model
           (draft: PIL decodes at the JPEG DCT scale via Image.draft, as SharpVision's decoder does)
  quit
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torchvision
from PIL import Image
from torchvision import datasets, transforms

# The Keras-style augmentation of bench/LoaderBench.cs (AugmentSpec) in torchvision terms:
# rotation_range=40 -> degrees=40; width/height_shift_range=0.2 -> translate=(0.2, 0.2);
# zoom_range=0.2 -> scale=(0.8, 1.2); shear_range=0.2 (degrees) -> shear=0.2; horizontal_flip -> p=0.5.
# Bilinear sampling as ours (RandomAffine's default is nearest, which would be cheaper than our warp).
ROTATION, SHIFT, ZOOM, SHEAR = 40, 0.2, 0.2, 0.2


def smallcnn(classes=1):
    """The 4-conv convnet of "Deep Learning with Python" 5.2 at 150x150 (3,453,121 parameters with 1 output)."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),       # [B, 32, 74, 74]
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),      # [B, 64, 36, 36]
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.MaxPool2d(2),     # [B, 128, 17, 17]
        nn.Conv2d(128, 128, 3), nn.ReLU(), nn.MaxPool2d(2),    # [B, 128, 7, 7]
        nn.Flatten(),                                          # [B, 6272]
        nn.Linear(128 * 7 * 7, 512), nn.ReLU(),
        nn.Linear(512, classes))                               # logits; sigmoid is in the loss


def build(model, classes):
    if model == "smallcnn":
        return smallcnn(classes)
    if model == "resnet18":
        return torchvision.models.resnet18(num_classes=classes)
    raise ValueError(f"unknown model {model}")


def loss_for(classes):
    # One output: sigmoid + binary cross-entropy on float targets; several: softmax cross-entropy.
    if classes == 1:
        bce = nn.BCEWithLogitsLoss()
        return lambda out, y: bce(out.reshape(-1), y.to(out.dtype))
    return nn.CrossEntropyLoss()


def optimizer_for(name, params, lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"unknown optimizer {name}")


def draft_loader(size):
    """ImageFolder's loader with PIL's draft(): libjpeg decodes at the largest 1/2, 1/4 or 1/8 scale that still
    gives at least size x size, like SharpVision's decoder. Non-JPEG files ignore draft()."""
    def load(path):
        with open(path, "rb") as f:
            img = Image.open(f)
            img.draft("RGB", (size, size))
            return img.convert("RGB")
    return load


def augment_transform(size):
    return transforms.Compose([
        transforms.Resize((size, size)),
        transforms.RandomAffine(degrees=ROTATION, translate=(SHIFT, SHIFT), scale=(1 - ZOOM, 1 + ZOOM), shear=SHEAR,
                                interpolation=transforms.InterpolationMode.BILINEAR),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),                                 # [3, size, size] floats in 0..1
    ])


_models = {}
_batches = {}
_loaders = {}


def cached_model(model, classes):
    key = (model, classes)
    if key not in _models:
        torch.manual_seed(1)
        _models[key] = build(model, classes)
    return _models[key]


def cached_batches(size, batch, classes, count=4):
    """A few random in-memory batches, cycled: the C# side feeds its own of the same shapes."""
    key = (size, batch, classes)
    if key not in _batches:
        g = torch.Generator().manual_seed(2)
        _batches[key] = [(torch.rand(batch, 3, size, size, generator=g),
                          torch.randint(0, max(classes, 2), (batch,), generator=g)) for _ in range(count)]
    return _batches[key]


def train_steps(net, batches, loss_fn, opt, steps):
    """The plain PyTorch loop; loss.item() each step as any loop that logs does (it also waits for the step)."""
    net.train()
    images = 0
    it = iter(batches)
    t0 = time.perf_counter()
    for _ in range(steps):
        x, y = next(it)
        opt.zero_grad()
        out = net(x)
        loss = loss_fn(out, y)
        loss.backward()
        opt.step()
        loss.item()
        images += x.shape[0]
    return images, time.perf_counter() - t0


def cycle(batches):
    while True:
        for b in batches:
            yield b


def op_train(r):
    classes = r.get("classes", 1)
    net = cached_model(r["model"], classes)
    opt = optimizer_for(r["optimizer"], net.parameters(), r["lr"])
    images, seconds = train_steps(net, cycle(cached_batches(r["size"], r["batch"], classes)), loss_for(classes), opt, r["steps"])
    return {"images": images, "seconds": seconds}


def op_infer(r):
    classes = r.get("classes", 1000)
    net = cached_model(r["model"], classes)
    net.eval()
    batches = cached_batches(r["size"], r["batch"], classes)
    images = 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(r["steps"]):
            x, _ = batches[i % len(batches)]
            net(x).softmax(1).numpy()                          # what a predict loop reads back
            images += x.shape[0]
    return {"images": images, "seconds": time.perf_counter() - t0}


def cached_loader(r, shuffle):
    workers = r["workers"]
    draft = r.get("draft", False)
    key = (r["dir"], r["size"], r["batch"], workers, shuffle, draft)
    if key not in _loaders:
        extra = {"loader": draft_loader(r["size"])} if draft else {}
        data = datasets.ImageFolder(r["dir"], transform=augment_transform(r["size"]), **extra)
        # Persistent workers: the process pool is started once and reused by every measurement, which spares
        # PyTorch its fork per pass (our loader starts its threads per epoch, which costs microseconds).
        _loaders[key] = torch.utils.data.DataLoader(
            data, batch_size=r["batch"], shuffle=shuffle, num_workers=workers,
            persistent_workers=workers > 0, drop_last=False)
    return _loaders[key]


def op_e2e(r):
    loader = cached_loader(r, shuffle=True)
    net = cached_model("smallcnn", 1)
    opt = optimizer_for(r["optimizer"], net.parameters(), r["lr"])
    loss_fn = loss_for(1)

    passes = []

    def batches():
        # Endless reshuffled passes, cut at `steps` batches, like our loader's StepsPerEpoch.
        while True:
            it = iter(loader)
            passes.append(it)
            for x, y in it:
                yield x, y

    images, seconds = train_steps(net, batches(), loss_fn, opt, r["steps"])
    # Quiesce: finish the open pass untimed, so the persistent workers are idle (not prefetching the next
    # batches on the shared cores) while the C# side is timed, and the next call starts from a cold pass as ours does.
    for _ in passes[-1]:
        pass
    return {"images": images, "seconds": seconds}


def op_loader(r):
    loader = cached_loader(r, shuffle=True)
    # With num_workers=0 the transforms run here, and ToTensor's tiny torch ops would fan out over the intra-op
    # pool: on a busy 2-core machine that costs ~20 ms per image in OpenMP barriers (measured: 23.6 ms with 2
    # threads, 1.1 ms with 1). One worker means one core on our side too, so PyTorch gets one thread here.
    saved = torch.get_num_threads()
    torch.set_num_threads(r.get("threads", saved))
    try:
        images = 0
        t0 = time.perf_counter()
        for x, _ in loader:
            images += x.shape[0]
        return {"images": images, "seconds": time.perf_counter() - t0}
    finally:
        torch.set_num_threads(saved)


def op_init(r):
    torch.set_num_threads(r["threads"])
    cfg = torch.__config__.show()
    blas = next((p.split("=")[1] for p in cfg.replace(",", " ").split() if p.startswith("BLAS_INFO=")), "?")
    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads(),
            "blas": blas, "mkldnn": torch.backends.mkldnn.is_available()}


def op_params(r):
    net = cached_model(r["model"], r.get("classes", 1))
    return {"params": sum(p.numel() for p in net.parameters())}


OPS = {"init": op_init, "params": op_params, "train": op_train, "infer": op_infer, "e2e": op_e2e, "loader": op_loader}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        if request["op"] == "quit":
            break
        try:
            reply = OPS[request["op"]](request)
        except Exception as e:  # reported to the C# side, which prints it and stops
            reply = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
