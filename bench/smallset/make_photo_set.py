#!/usr/bin/env python3
"""A small detection set made of real photographs, for choosing detection augmentation defaults (issue 12).

No network here, so the photos are the ones Debian ships: darknet's sample images (package darknet), scikit-image's
data images (python3-skimage; or its .deb unpacked with `dpkg -x`), matplotlib's and scikit-learn's sample photos.
Six classes (horse, dog, person, bird, cat, car), 12 object instances cut from those photos by the boxes below
(chosen by eye on a 50 px grid), pasted with a feathered edge at random scale, position and mirror onto real
background photos. Training and validation use DIFFERENT background photos (and different draws), the same object
instances: the set measures how well a detector trained on a few tens of images finds known objects in new scenes,
at new scales and light, which is what scale, colour and mosaic augmentation are meant to help with.

usage: make_photo_set.py OUT_DIR [--skimage DIR] [--train 60] [--val 30] [--size 320] [--seed 0]
writes OUT_DIR/{train,val}.txt (annotation lines), OUT_DIR/classes.txt, OUT_DIR/images/*.jpg
"""
import argparse, os, random, sys
from PIL import Image, ImageFilter

DARKNET = "/usr/share/darknet/data"
CLASSES = ["horse", "dog", "person", "bird", "cat", "car"]
# (file, crop box x1,y1,x2,y2 in the photo, class)
OBJECTS = [
    ("darknet/horses.jpg", (0, 195, 316, 410), "horse"),
    ("darknet/horses.jpg", (232, 195, 418, 362), "horse"),
    ("darknet/horses.jpg", (433, 210, 597, 347), "horse"),
    ("darknet/person.jpg", (405, 140, 600, 347), "horse"),
    ("darknet/dog.jpg", (132, 222, 305, 540), "dog"),
    ("darknet/person.jpg", (63, 262, 205, 345), "dog"),
    ("darknet/person.jpg", (190, 98, 275, 375), "person"),
    ("skimage/astronaut.png", (60, 0, 460, 512), "person"),
    ("mpl/grace_hopper.jpg", (40, 20, 480, 600), "person"),
    ("darknet/eagle.jpg", (130, 85, 600, 450), "bird"),
    ("skimage/chelsea.png", (60, 0, 420, 300), "cat"),
    ("darknet/dog.jpg", (465, 75, 690, 172), "car"),
]
# (file, crop or None) -- no object of the six classes in view
TRAIN_BACKGROUNDS = [
    ("skimage/grass.png", None), ("skimage/gravel.png", None), ("skimage/brick.png", None), ("sklearn/china.jpg", None),
    ("skimage/coffee.png", None), ("skimage/motorcycle_left.png", None), ("darknet/horses.jpg", (0, 0, 773, 190)),
    ("darknet/dog.jpg", (300, 420, 768, 576)),
]
VAL_BACKGROUNDS = [
    ("sklearn/flower.jpg", None), ("skimage/rocket.jpg", None), ("darknet/giraffe.jpg", None),
    ("skimage/motorcycle_right.png", None), ("darknet/eagle.jpg", (0, 0, 773, 80)), ("darknet/kite.jpg", (0, 0, 1352, 330)),
]


def resolve(name, skimage):
    kind, file = name.split("/", 1)
    base = {"darknet": DARKNET, "skimage": skimage, "mpl": "/usr/share/matplotlib/mpl-data/sample_data",
            "sklearn": "/usr/lib/python3/dist-packages/sklearn/datasets/images"}[kind]
    path = os.path.join(base, file)
    if not os.path.exists(path):
        sys.exit(f"missing {path}: install darknet, python3-skimage, python3-matplotlib and python3-sklearn (or pass --skimage)")
    return path


def feather_mask(w, h, edge):
    """Opaque inside, a linear ramp over `edge` px at the border: no hard rectangle for the detector to key on."""
    mask = Image.new("L", (w, h), 0)
    inner = Image.new("L", (max(1, w - 2 * edge), max(1, h - 2 * edge)), 255)
    mask.paste(inner, (edge, edge))
    return mask.filter(ImageFilter.GaussianBlur(edge / 2)) if edge > 0 else mask


def make(out, split, count, backgrounds, objects, size, rng):
    lines = []
    for i in range(count):
        bg_file, crop = rng.choice(backgrounds)
        bg = Image.open(bg_file).convert("RGB")
        if crop: bg = bg.crop(crop)
        # A random square-ish window of the background, resized to the output size.
        side = min(bg.width, bg.height)
        s = int(side * rng.uniform(.6, 1))
        x0, y0 = rng.randint(0, bg.width - s), rng.randint(0, bg.height - s) if bg.height > s else 0
        canvas = bg.crop((x0, y0, x0 + s, y0 + min(s, bg.height))).resize((size, size), Image.BILINEAR)
        boxes = []
        for _ in range(rng.randint(1, 3)):
            (img, cls) = rng.choice(objects)
            frac = rng.uniform(.22, .6)  # longer side of the object as a fraction of the image
            scale = frac * size / max(img.width, img.height)
            w, h = max(8, int(img.width * scale)), max(8, int(img.height * scale))
            obj = img.resize((w, h), Image.BILINEAR)
            if rng.random() < .5: obj = obj.transpose(Image.FLIP_LEFT_RIGHT)
            for _ in range(30):  # a spot overlapping earlier objects by at most 30 % of the smaller box
                x, y = rng.randint(0, size - w), rng.randint(0, size - h)
                ok = all(max(0, min(x + w, b[2]) - max(x, b[0])) * max(0, min(y + h, b[3]) - max(y, b[1]))
                         <= .3 * min(w * h, (b[2] - b[0]) * (b[3] - b[1])) for b in boxes)
                if ok: break
            else:
                continue
            edge = max(1, min(w, h) // 12)
            canvas.paste(obj, (x, y), feather_mask(w, h, edge))
            # The box: the pasted crop less half the feather (the crops are tight around the animal / person / car).
            boxes.append((x + edge // 2, y + edge // 2, x + w - edge // 2, y + h - edge // 2, CLASSES.index(cls)))
        name = f"{split}_{i:03d}.jpg"
        canvas.save(os.path.join(out, "images", name), quality=90)
        lines.append("images/" + name + "".join(f" {b[0]},{b[1]},{b[2]},{b[3]},{b[4]}" for b in boxes))
    with open(os.path.join(out, f"{split}.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--skimage", default="/usr/lib/python3/dist-packages/skimage/data")
    ap.add_argument("--train", type=int, default=60)
    ap.add_argument("--val", type=int, default=30)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    objects = [(Image.open(resolve(f, a.skimage)).convert("RGB").crop(box), cls) for f, box, cls in OBJECTS]
    bgs = lambda lst: [(resolve(f, a.skimage), c) for f, c in lst]
    make(a.out, "train", a.train, bgs(TRAIN_BACKGROUNDS), objects, a.size, rng)
    make(a.out, "val", a.val, bgs(VAL_BACKGROUNDS), objects, a.size, rng)
    with open(os.path.join(a.out, "classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    print(f"wrote {a.train} training and {a.val} validation images to {a.out}")


if __name__ == "__main__":
    main()
