#!/usr/bin/python3
"""PyTorch's side of `dotnet run -c Release --project bench -- time-to-accuracy` (bench/TimeToAccuracy.cs).

What a PyTorch user runs for Fashion-MNIST: torchvision's FashionMNIST data set (the idx files, decoded into memory,
ToTensor per item), a DataLoader with batch 64 and shuffling (num_workers=0, the tutorials' default), and the
two-convolution network of PyTorch's own MNIST example (pytorch/examples mnist/main.py: conv 32, conv 64, max-pool,
dropout, fc 128, fc 10) trained with Adam at 1e-3, the optimiser of most Fashion-MNIST tutorials; the test set is
evaluated after every epoch, as the tutorials' test loop does.

torchvision wants the uncompressed files in ROOT/FashionMNIST/raw/; `download=True` would fetch and unpack them.
Offline, this script unpacks the .gz files of --idx (Debian's dataset-fashion-mnist) there itself, before the clock
starts. Output: one JSON line per epoch on stdout ({"epoch", "loss", "test_accuracy", "seconds"}, seconds since the
clock started), then {"done": true, "seconds": ...}; the C# bench also timestamps each line as it arrives.
"""
import argparse
import gzip
import json
import os
import shutil
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import datasets, transforms

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


class Net(nn.Module):
    """pytorch/examples mnist/main.py's network (1,199,882 parameters)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):                       # [B, 1, 28, 28]
        x = F.relu(self.conv1(x))               # [B, 32, 26, 26]
        x = F.relu(self.conv2(x))               # [B, 64, 24, 24]
        x = F.max_pool2d(x, 2)                  # [B, 64, 12, 12]
        x = self.dropout1(torch.flatten(x, 1))  # [B, 9216]
        x = self.dropout2(F.relu(self.fc1(x)))  # [B, 128]
        return self.fc2(x)                      # [B, 10] logits


def unpack(idx_dir, root):
    """ROOT/FashionMNIST/raw/<file> from idx_dir's <file>.gz (or <file>), as torchvision's download would leave it."""
    raw = os.path.join(root, "FashionMNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    for name in FILES:
        target = os.path.join(raw, name)
        if os.path.exists(target):
            continue
        source = os.path.join(idx_dir, name + ".gz")
        if os.path.exists(source):
            with gzip.open(source, "rb") as src, open(target + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif os.path.exists(os.path.join(idx_dir, name)):
            shutil.copyfile(os.path.join(idx_dir, name), target + ".part")
        else:
            sys.exit(f"time_to_accuracy.py: {source} not found (Debian: apt-get install dataset-fashion-mnist)")
        os.replace(target + ".part", target)


def report(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--idx", required=True, help="folder holding the four Fashion-MNIST idx files (.gz or plain)")
    p.add_argument("--root", required=True, help="scratch folder for torchvision's FashionMNIST/raw/")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    unpack(args.idx, args.root)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    start = time.perf_counter()

    train_data = datasets.FashionMNIST(args.root, train=True, download=False, transform=transforms.ToTensor())
    test_data = datasets.FashionMNIST(args.root, train=False, download=False, transform=transforms.ToTensor())
    train_loader = torch.utils.data.DataLoader(train_data, batch_size=args.batch, shuffle=True)
    test_loader = torch.utils.data.DataLoader(test_data, batch_size=1000)

    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        model.train()
        total, count = 0.0, 0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        model.eval()
        correct = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += (model(x).argmax(1) == y).sum().item()
        report(epoch=epoch, loss=total / count, test_accuracy=correct / len(test_data), seconds=time.perf_counter() - start)
    report(done=True, seconds=time.perf_counter() - start, threads=torch.get_num_threads(), torch=torch.__version__,
           params=sum(p.numel() for p in model.parameters()))


if __name__ == "__main__":
    main()
