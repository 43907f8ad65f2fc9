"""Keras 2 .h5 fixtures for the Keras importer tests, written with h5py + numpy only (no TensorFlow here).

The files follow Keras 2.1.5's keras/engine/saving.py and topology.py byte for byte where it matters:
  model.save():          root attrs keras_version, backend, model_config (JSON bytes), training_config (compiled);
                         group model_weights/ with attrs layer_names, backend, keras_version; one group per layer with
                         attr weight_names; datasets <layer>/<weight name>, the weight name being e.g. conv2d_1/kernel:0,
                         so the path reads model_weights/conv2d_1/conv2d_1/kernel:0.
  model.save_weights():  the same layer groups at the root, root attrs layer_names, backend, keras_version.
Text attributes are bytes, stored as h5py 2.x stored them for Keras 2.1/2.2 (fixed-length strings: numpy 'S') or
as h5py 3 stores them for later tf.keras (variable-length strings); a layer without weights gets an empty float
array (what h5py makes of Keras' empty list).

Each fixture also writes an input and the reference output computed by an independent numpy forward pass that
follows Keras' semantics literally (channels-last tensors, TensorFlow 'same' padding, ZeroPadding2D, Flatten in
H, W, C order, BatchNormalization with its epsilon), float64 arithmetic. Inputs and outputs are raw little-endian
float32 files; shapes are given in the C# test.

usage:
  make_keras_fixtures.py yolo OUT_DIR {tiny|full} SIZE CLASSES WIDTH SEED
  make_keras_fixtures.py classifier OUT_DIR {catsdogs|mixed|unsupported} SEED PIXELS.u8 COUNT
"""
import json
import os
import sys

import h5py
import numpy as np

KERAS_VERSION = b"2.1.5"


# ---------------------------------------------------------------- writing in Keras' layout

def text(value, fixed):
    """bytes or a list of bytes as h5py 2.x wrote them (fixed-length, numpy 'S') or as h5py 3 does (variable-length)."""
    if not fixed:
        return value
    if isinstance(value, list):
        return np.array(value, dtype="S") if value else np.asarray(value)
    return np.bytes_(value)


def write_layers(group, layers, fixed):
    """layers: list of (name, [(weight name, array)]) in model.layers order (Keras' save_weights_to_hdf5_group)."""
    group.attrs["layer_names"] = text([name.encode("utf8") for name, _ in layers], fixed)
    group.attrs["backend"] = text(b"tensorflow", fixed)
    group.attrs["keras_version"] = text(KERAS_VERSION, fixed)
    for name, weights in layers:
        g = group.create_group(name)
        g.attrs["weight_names"] = text([w.encode("utf8") for w, _ in weights], fixed)
        for w, value in weights:
            d = g.create_dataset(w, value.shape, dtype=value.dtype)
            d[:] = value


def write_full(path, model_config, layers, compiled, fixed):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = text(KERAS_VERSION, fixed)
        f.attrs["backend"] = text(b"tensorflow", fixed)
        f.attrs["model_config"] = text(json.dumps(model_config).encode("utf8"), fixed)
        write_layers(f.create_group("model_weights"), layers, fixed)
        if compiled:
            f.attrs["training_config"] = text(json.dumps({"optimizer_config": {"class_name": "RMSprop", "config": {"lr": 1e-4}},
                                                     "loss": "binary_crossentropy", "metrics": ["acc"],
                                                     "sample_weight_mode": None, "loss_weights": None}).encode("utf8"), fixed)
            f.create_group("optimizer_weights").attrs["weight_names"] = text([b"training/RMSprop/Variable:0"], fixed)
            f["optimizer_weights"].create_dataset("training/RMSprop/Variable:0", data=np.zeros((3,), np.float32))


def write_weights_only(path, layers, fixed):
    with h5py.File(path, "w") as f:
        write_layers(f, layers, fixed)


# ---------------------------------------------------------------- Keras semantics in numpy (NHWC, float64)

def same_pads(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(x, kernel, stride, padding, bias=None):
    """x [B, H, W, C], kernel [kh, kw, C, F] (Keras HWIO)."""
    kh, kw = kernel.shape[:2]
    if padding == "same":
        t, b = same_pads(x.shape[1], kh, stride)
        l, r = same_pads(x.shape[2], kw, stride)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    oh = (x.shape[1] - kh) // stride + 1
    ow = (x.shape[2] - kw) // stride + 1
    y = np.zeros((x.shape[0], oh, ow, kernel.shape[3]), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :]
            y += patch @ kernel[i, j]
    return y if bias is None else y + bias


def max_pool(x, size, stride, padding):
    if padding == "same":
        t, b = same_pads(x.shape[1], size, stride)
        l, r = same_pads(x.shape[2], size, stride)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=-np.inf)
    oh = (x.shape[1] - size) // stride + 1
    ow = (x.shape[2] - size) // stride + 1
    y = np.full((x.shape[0], oh, ow, x.shape[3]), -np.inf, dtype=x.dtype)
    for i in range(size):
        for j in range(size):
            y = np.maximum(y, x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride, :])
    return y


def batch_norm(x, gamma, beta, mean, var, eps):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def activation(x, name):
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(name)


def f32(a):
    return np.asarray(a, dtype=np.float32)


# ---------------------------------------------------------------- keras-yolo3

class YoloBuilder:
    """Builds keras-yolo3's yolo_body / tiny_yolo_body: weights in creation order and the forward alongside."""

    def __init__(self, rng, tf_keras_names, calibrate):
        self.rng = rng
        self.calibrate = calibrate
        self.counts = {}
        self.tf_keras_names = tf_keras_names
        self.created = []  # (name, weights) in creation order

    def name(self, stem):
        n = self.counts.get(stem, 0)
        self.counts[stem] = n + 1
        # Keras 2.1-2.2 number from 1 (conv2d_1); tf.keras starts with the bare stem (conv2d, conv2d_1, ...).
        # An offset emulates a session that had built another model first.
        if self.tf_keras_names:
            return stem if n == 0 else "%s_%d" % (stem, n)
        return "%s_%d" % (stem, n + 1 + 3)

    def layer(self, stem, weights=()):
        name = self.name(stem)
        self.created.append((name, [("%s/%s" % (name, w), v) for w, v in weights]))
        return name

    def conv(self, x, filters, size, stride=1, bn=True):
        c = x.shape[3]
        kernel = f32(self.rng.normal(0, np.sqrt(2.0 / (size * size * c)) * 0.8, (size, size, c, filters)))
        if stride == 2:
            self.layer("zero_padding2d")
            x = np.pad(x, ((0, 0), (1, 0), (1, 0), (0, 0)))  # ZeroPadding2D(((1, 0), (1, 0))): top and left only
        padding = "valid" if stride == 2 else "same"
        if not bn:
            bias = f32(self.rng.uniform(-0.5, 0.5, filters))
            self.layer("conv2d", [("kernel:0", kernel), ("bias:0", bias)])
            return conv2d(x, kernel.astype(x.dtype), stride, padding, bias.astype(x.dtype))
        self.layer("conv2d", [("kernel:0", kernel)])
        gamma = f32(self.rng.uniform(0.3, 0.8, filters) if self.calibrate else self.rng.uniform(0.5, 1.5, filters))
        beta = f32(self.rng.uniform(-0.3, 0.3, filters))
        mean = f32(self.rng.uniform(-0.3, 0.3, filters))
        var = f32(self.rng.uniform(0.3, 2.0, filters))
        y = conv2d(x, kernel.astype(x.dtype), stride, padding)
        if self.calibrate:
            # Statistics near the input's own, as training leaves them: through Darknet-53's 75 layers random ones
            # would let the activations explode or fade (and the heads would no longer depend on the input).
            # Each channel's variance is floored at the layer's average one and gamma kept below 1, so that no
            # channel is scaled up by much: over 75 layers, gains above 1 magnify float32 rounding (measured: float32
            # numpy against float64 numpy 2e-4 with gamma in 0.5..1.5 and raw variances, 5e-6 like this).
            spread = y.var(axis=(0, 1, 2))
            mean = f32(y.mean(axis=(0, 1, 2)) + 0.1 * mean)
            var = f32((spread + spread.mean()) * (0.8 + 0.25 * var))
        self.layer("batch_normalization", [("gamma:0", gamma), ("beta:0", beta), ("moving_mean:0", mean), ("moving_variance:0", var)])
        self.layer("leaky_re_lu")
        y = batch_norm(y, gamma, beta, mean, var, 1e-3)
        return np.where(y > 0, y, 0.1 * y)

    def pool(self, x, stride):
        self.layer("max_pooling2d")
        return max_pool(x, 2, stride, "same")

    def upsample(self, x):
        self.layer("up_sampling2d")
        return x.repeat(2, axis=1).repeat(2, axis=2)

    def concat(self, a, b):
        self.layer("concatenate")
        return np.concatenate([a, b], axis=3)

    def add(self, a, b):
        self.layer("add")
        return a + b


def tiny_body(m, x, out, w):
    c = lambda f: max(1, int(round(f * w)))
    x1 = x
    for i, f in enumerate([16, 32, 64, 128]):
        x1 = m.conv(x1, c(f), 3)
        x1 = m.pool(x1, 2)
    x1 = m.conv(x1, c(256), 3)
    x2 = m.pool(x1, 2)
    x2 = m.conv(x2, c(512), 3)
    x2 = m.pool(x2, 1)
    x2 = m.conv(x2, c(1024), 3)
    x2 = m.conv(x2, c(256), 1)
    y1 = m.conv(x2, c(512), 3)
    y1 = m.conv(y1, out, 1, bn=False)
    x2 = m.conv(x2, c(128), 1)
    x2 = m.upsample(x2)
    y2 = m.concat(x2, x1)
    y2 = m.conv(y2, c(256), 3)
    y2 = m.conv(y2, out, 1, bn=False)
    return [y1, y2]


def full_body(m, x, out, w):
    c = lambda f: max(1, int(round(f * w)))
    x = m.conv(x, c(32), 3)
    ends = []
    for filters, blocks in [(64, 1), (128, 2), (256, 8), (512, 8), (1024, 4)]:
        x = m.conv(x, c(filters), 3, stride=2)
        for _ in range(blocks):
            y = m.conv(x, c(filters // 2), 1)
            y = m.conv(y, c(filters), 3)
            x = m.add(x, y)
        ends.append(x)

    def last_layers(x, filters):
        x = m.conv(x, c(filters), 1)
        x = m.conv(x, c(filters * 2), 3)
        x = m.conv(x, c(filters), 1)
        x = m.conv(x, c(filters * 2), 3)
        x = m.conv(x, c(filters), 1)
        y = m.conv(x, c(filters * 2), 3)
        y = m.conv(y, out, 1, bn=False)
        return x, y

    x, y1 = last_layers(ends[4], 512)
    x = m.conv(x, c(256), 1)
    x = m.upsample(x)
    x = m.concat(x, ends[3])
    x, y2 = last_layers(x, 256)
    x = m.conv(x, c(128), 1)
    x = m.upsample(x)
    x = m.concat(x, ends[2])
    x, y3 = last_layers(x, 128)
    return [y1, y2, y3]


def yolo(out_dir, kind, size, classes, width, seed):
    anchors = [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)] if kind == "tiny" else \
        [(10, 13), (16, 30), (33, 23), (30, 61), (62, 45), (59, 119), (116, 90), (156, 198), (373, 326)]
    out = 3 * (classes + 5)
    rng = np.random.default_rng(seed)
    x = f32(rng.uniform(0, 1, (1, size, size, 3)))
    outputs = {}
    files = {}
    for file_kind, tf_names in [("full", False), ("weights", True)]:
        m = YoloBuilder(np.random.default_rng(seed + 1), tf_names, calibrate=kind == "full")
        input_name = "input_1" if not tf_names else "input"
        heads = (tiny_body if kind == "tiny" else full_body)(m, x.astype(np.float64), out, width)
        outputs[file_kind] = heads
        # model.layers is Keras' topological order, not creation order: put the heads' output convolutions
        # (and the layers right before them) last, so that an importer reading layer_names in order would mis-map.
        created = [(input_name, [])] + m.created
        head_names = [n for n, ws in created if len(ws) == 2]
        layers = [l for l in created if l[0] not in head_names] + [l for l in created if l[0] in head_names]
        files[file_kind] = layers
    assert all(np.array_equal(a, b) for a, b in zip(outputs["full"], outputs["weights"]))

    # model.save (convert.py, yolo.py's load_model): a functional Model config with inbound nodes.
    layers = files["full"]
    config_layers = []
    for name, ws in layers:
        stem = name.rsplit("_", 1)[0] if name[-1].isdigit() else name
        cls = {"input": "InputLayer", "conv2d": "Conv2D", "batch_normalization": "BatchNormalization",
               "leaky_re_lu": "LeakyReLU", "max_pooling2d": "MaxPooling2D", "up_sampling2d": "UpSampling2D",
               "concatenate": "Concatenate", "zero_padding2d": "ZeroPadding2D", "add": "Add"}[stem]
        cfg = {"name": name, "trainable": True}
        if cls == "InputLayer":
            cfg.update({"batch_input_shape": [None, None, None, 3], "dtype": "float32", "sparse": False})
        if cls == "BatchNormalization":
            cfg.update({"axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True})
        if cls == "LeakyReLU":
            cfg["alpha"] = 0.1
        config_layers.append({"name": name, "class_name": cls, "config": cfg, "inbound_nodes": [] if cls == "InputLayer" else [[["(elided)", 0, 0, {}]]]})
    model_config = {"class_name": "Model", "config": {"name": "model_1", "layers": config_layers,
                                                      "input_layers": [["input_1", 0, 0]],
                                                      "output_layers": [[n, 0, 0] for n, ws in layers if len(ws) == 2]}}
    # Keras 2.1.5 (h5py 2.x: fixed-length strings) for model.save, tf.keras (h5py 3: variable-length) for the weights.
    write_full(os.path.join(out_dir, "yolo.h5"), model_config, files["full"], compiled=False, fixed=True)
    # model.save_weights of train.py's training model: the y_true inputs and the loss Lambda come along.
    extra = [("input_2", []), ("input_3", []), ("yolo_loss", [])]
    write_weights_only(os.path.join(out_dir, "trained_weights_final.h5"), files["weights"] + extra, fixed=False)

    with open(os.path.join(out_dir, "anchors.txt"), "w") as f:
        f.write(",  ".join("%d,%d" % a for a in anchors) + "\n")
    with open(os.path.join(out_dir, "classes.txt"), "w") as f:
        f.write("".join("class_%d\n" % i for i in range(classes)))
    x.transpose(0, 3, 1, 2).astype("<f4").tofile(os.path.join(out_dir, "input.f32"))
    # Our layout: per head [B, A*H*W, 5+K] in (anchor, row, column) order, heads concatenated.
    flat = []
    for y in outputs["full"]:
        b, h, w, _ = y.shape
        flat.append(y.reshape(b, h, w, 3, classes + 5).transpose(0, 3, 1, 2, 4).reshape(b, 3 * h * w, classes + 5))
    np.concatenate(flat, axis=1).astype("<f4").tofile(os.path.join(out_dir, "reference.f32"))
    print(" ".join("%dx%d" % (y.shape[1], y.shape[2]) for y in outputs["full"]))


# ---------------------------------------------------------------- Sequential classifiers

def classifier(out_dir, kind, seed, pixels_path, count):
    rng = np.random.default_rng(seed)
    if kind == "catsdogs":
        # Deep Learning with Python 5.2's cats_and_dogs_small_2.h5, Keras 2.1.5 (config = a list of layers).
        size = 150
        spec = [("Conv2D", dict(filters=32, kernel_size=[3, 3], activation="relu", padding="valid", strides=[1, 1])),
                ("MaxPooling2D", dict(pool_size=[2, 2], strides=[2, 2], padding="valid")),
                ("Conv2D", dict(filters=64, kernel_size=[3, 3], activation="relu", padding="valid", strides=[1, 1])),
                ("MaxPooling2D", dict(pool_size=[2, 2], strides=[2, 2], padding="valid")),
                ("Conv2D", dict(filters=128, kernel_size=[3, 3], activation="relu", padding="valid", strides=[1, 1])),
                ("MaxPooling2D", dict(pool_size=[2, 2], strides=[2, 2], padding="valid")),
                ("Conv2D", dict(filters=128, kernel_size=[3, 3], activation="relu", padding="valid", strides=[1, 1])),
                ("MaxPooling2D", dict(pool_size=[2, 2], strides=[2, 2], padding="valid")),
                ("Flatten", {}),
                ("Dropout", dict(rate=0.5)),
                ("Dense", dict(units=512, activation="relu")),
                ("Dense", dict(units=1, activation="sigmoid"))]
        list_config = True
    elif kind == "unsupported":
        size = 16
        spec = [("Conv2D", dict(filters=4, kernel_size=[3, 3], activation="relu", padding="valid", strides=[1, 1])),
                ("LeakyReLU", dict(alpha=0.3)),
                ("Flatten", {}),
                ("Dense", dict(units=2, activation="softmax"))]
        list_config = True
    else:
        # Every supported layer, Keras 2.2 style (config = {name, layers}), a 3x3x5 map before Flatten.
        size = 28
        spec = [("Conv2D", dict(filters=6, kernel_size=[3, 3], activation="relu", padding="same", strides=[1, 1])),
                ("BatchNormalization", dict(axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=True)),
                ("MaxPooling2D", dict(pool_size=[2, 2], strides=[2, 2], padding="valid")),
                ("Conv2D", dict(filters=8, kernel_size=[3, 3], activation="linear", padding="same", strides=[2, 2])),
                ("Activation", dict(activation="tanh")),
                ("Conv2D", dict(filters=5, kernel_size=[3, 3], activation="relu", padding="valid", strides=[1, 1])),
                ("MaxPooling2D", dict(pool_size=[2, 2], strides=[2, 2], padding="same")),
                ("Flatten", {}),
                ("BatchNormalization", dict(axis=-1, momentum=0.99, epsilon=0.01, center=True, scale=True)),
                ("Dense", dict(units=7, activation="relu", use_bias=False)),
                ("Dropout", dict(rate=0.25)),
                ("Dense", dict(units=4, activation="softmax"))]
        list_config = False

    counts = {}
    layers = []
    configs = []
    shape = (size, size, 3)
    pixels = np.fromfile(pixels_path, dtype=np.uint8).reshape(count, size, size, 3)
    x = pixels.astype(np.float64) / 255.0  # the tutorials' ImageDataGenerator(rescale=1./255)
    stems = {"Conv2D": "conv2d", "MaxPooling2D": "max_pooling2d", "Flatten": "flatten", "Dropout": "dropout",
             "Dense": "dense", "BatchNormalization": "batch_normalization", "Activation": "activation", "LeakyReLU": "leaky_re_lu"}
    for i, (cls, args) in enumerate(spec):
        stem = stems[cls]
        counts[stem] = counts.get(stem, 0) + 1
        name = "%s_%d" % (stem, counts[stem])
        cfg = {"name": name, "trainable": True}
        if i == 0:
            cfg.update({"batch_input_shape": [None, size, size, 3], "dtype": "float32"})
        weights = []
        if cls == "Conv2D":
            c = x.shape[3]
            k = f32(rng.normal(0, np.sqrt(2.0 / (9 * c)), (3, 3, c, args["filters"])))
            b = f32(rng.uniform(-0.1, 0.1, args["filters"]))
            weights = [("kernel:0", k), ("bias:0", b)]
            cfg.update(args, data_format="channels_last", dilation_rate=[1, 1], use_bias=True,
                       kernel_initializer={"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
                       bias_initializer={"class_name": "Zeros", "config": {}}, kernel_regularizer=None, bias_regularizer=None,
                       activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
            x = activation(conv2d(x, k.astype(np.float64), args["strides"][0], args["padding"], b), args["activation"])
        elif cls == "MaxPooling2D":
            cfg.update(args, data_format="channels_last")
            x = max_pool(x, args["pool_size"][0], args["strides"][0], args["padding"])
        elif cls == "Flatten":
            if not list_config:
                cfg["data_format"] = "channels_last"
            x = x.reshape(x.shape[0], -1)  # H, W, C order: Keras' channels-last Flatten
        elif cls == "Dropout":
            cfg.update(args, noise_shape=None, seed=None)
        elif cls == "Activation":
            cfg.update(args)
            x = activation(x, args["activation"])
        elif cls == "BatchNormalization":
            n = x.shape[-1]
            gamma = f32(rng.uniform(0.5, 1.5, n))
            beta = f32(rng.uniform(-0.3, 0.3, n))
            mean = f32(rng.uniform(-0.3, 0.3, n))
            var = f32(rng.uniform(0.2, 1.5, n))
            weights = [("gamma:0", gamma), ("beta:0", beta), ("moving_mean:0", mean), ("moving_variance:0", var)]
            cfg.update(args, beta_initializer={"class_name": "Zeros", "config": {}}, gamma_initializer={"class_name": "Ones", "config": {}},
                       moving_mean_initializer={"class_name": "Zeros", "config": {}}, moving_variance_initializer={"class_name": "Ones", "config": {}},
                       beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None)
            x = batch_norm(x, gamma, beta, mean, var, args["epsilon"])
        elif cls == "Dense":
            n = x.shape[1]
            use_bias = args.get("use_bias", True)
            k = f32(rng.normal(0, np.sqrt(2.0 / n), (n, args["units"])))
            weights = [("kernel:0", k)]
            y = x @ k.astype(np.float64)
            if use_bias:
                b = f32(rng.uniform(-0.2, 0.2, args["units"]))
                weights.append(("bias:0", b))
                y = y + b
            cfg.update(args, use_bias=use_bias, kernel_initializer={"class_name": "VarianceScaling", "config": {}},
                       bias_initializer={"class_name": "Zeros", "config": {}}, kernel_regularizer=None, bias_regularizer=None,
                       activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
            x = activation(y, args["activation"])
        else:
            cfg.update(args)
        configs.append({"class_name": cls, "config": cfg})
        layers.append((name, [("%s/%s" % (name, w), v) for w, v in weights]))
        print(name, x.shape[1:], file=sys.stderr)
    model_config = {"class_name": "Sequential", "config": configs if list_config else {"name": "sequential_1", "layers": configs}}
    write_full(os.path.join(out_dir, "model.h5"), model_config, layers, compiled=True, fixed=list_config)
    x.astype("<f4").tofile(os.path.join(out_dir, "reference.f32"))


if __name__ == "__main__":
    if sys.argv[1] == "yolo":
        yolo(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]))
    else:
        classifier(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
