"""Writes random_gt.json, random_dt.json and random_expected.json: one random COCO case and the 12 stats a
numpy re-implementation of pycocotools' COCOeval (bbox, default params) gives for it. pycocotools itself is not
installable here; this script follows its documented algorithm with numpy's own linspace, mergesort argsort,
searchsorted and mean, so numpy's arithmetic (not ours) decides every rounding. Run: python3 make_random_case.py"""
import json
import numpy as np

rng = np.random.default_rng(7)
images, anns, res = [{"id": i, "file_name": f"{i}.jpg"} for i in range(1, 6)], [], []
cats = [{"id": c, "name": f"c{c}"} for c in (1, 2, 3, 5)]
for img in range(1, 6):
    for _ in range(rng.integers(0, 12)):
        c = int(rng.choice([1, 2, 3]))
        x, y = float(rng.integers(0, 300)), float(rng.integers(0, 300))
        w, h = float(rng.integers(1, 150)), float(rng.integers(1, 150))
        a = {"id": len(anns) + 1, "image_id": img, "category_id": c, "bbox": [x, y, w, h], "iscrowd": int(rng.random() < 0.1)}
        if rng.random() < 0.3: a["area"] = float(w * h * rng.uniform(0.3, 1.0))
        anns.append(a)
        for _ in range(rng.integers(0, 3)):  # jittered detections, scores rounded so ties happen
            j = lambda v: float(np.round(v + rng.normal(0, 6), 1))
            res.append({"image_id": img, "category_id": c if rng.random() < 0.9 else 5,
                        "bbox": [j(x), j(y), max(0.5, j(w)), max(0.5, j(h))], "score": float(np.round(rng.random(), 1))})
    for _ in range(rng.integers(0, 40)):  # clutter
        res.append({"image_id": img, "category_id": int(rng.choice([1, 2, 3, 4])), "bbox": [float(rng.integers(0, 400)), float(rng.integers(0, 400)),
                    float(rng.integers(1, 120)), float(rng.integers(1, 120))], "score": float(np.round(rng.random(), 2))})

iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
areaRng = [[0, 1e5 ** 2], [0, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
maxDets = [1, 10, 100]
catIds, imgIds = sorted(c["id"] for c in cats), sorted(i["id"] for i in images)
for i, d in enumerate(res):
    d["id"], d["area"], d["iscrowd"] = i + 1, d["bbox"][2] * d["bbox"][3], 0
for g in anns:
    g.setdefault("area", g["bbox"][2] * g["bbox"][3])

def iou(dt, gt):
    o = np.zeros((len(dt), len(gt)))
    for j, g in enumerate(gt):
        gx, gy, gw, gh = g["bbox"]; ga = gw * gh
        for i, d in enumerate(dt):
            dx, dy, dw, dh = d["bbox"]; da = dw * dh
            w = min(dw + dx, gw + gx) - max(dx, gx)
            if w <= 0: continue
            h = min(dh + dy, gh + gy) - max(dy, gy)
            if h <= 0: continue
            i_ = w * h
            o[i, j] = i_ / (da if g["iscrowd"] else da + ga - i_)
    return o

def evaluate_img(gt, dt, aRng):
    if not gt and not dt: return None
    ig = [1 if (g["iscrowd"] or g["area"] < aRng[0] or g["area"] > aRng[1]) else 0 for g in gt]
    gi = np.argsort(ig, kind="mergesort"); gt = [gt[i] for i in gi]; ig = np.array([ig[i] for i in gi])
    di = np.argsort([-d["score"] for d in dt], kind="mergesort"); dt = [dt[i] for i in di[:100]]
    ious = iou(dt, gt); T = len(iouThrs)
    gtm, dtm, dtIg = np.zeros((T, len(gt))), np.zeros((T, len(dt))), np.zeros((T, len(dt)))
    for t, thr in enumerate(iouThrs):
        for d in range(len(dt)):
            best, m = min([thr, 1 - 1e-10]), -1
            for g in range(len(gt)):
                if gtm[t, g] > 0 and not gt[g]["iscrowd"]: continue
                if m > -1 and ig[m] == 0 and ig[g] == 1: break
                if ious[d, g] < best: continue
                best, m = ious[d, g], g
            if m == -1: continue
            dtIg[t, d], dtm[t, d], gtm[t, m] = ig[m], gt[m]["id"], dt[d]["id"]
    a = np.array([d["area"] < aRng[0] or d["area"] > aRng[1] for d in dt]).reshape((1, len(dt)))
    dtIg = np.logical_or(dtIg, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
    return {"s": np.array([d["score"] for d in dt]), "m": dtm, "i": dtIg, "g": ig}

E = {(k, a, i): evaluate_img([g for g in anns if g["image_id"] == i and g["category_id"] == k],
                             [d for d in res if d["image_id"] == i and d["category_id"] == k], areaRng[a])
     for k in catIds for a in range(4) for i in imgIds}
T, R, K, A, M = len(iouThrs), len(recThrs), len(catIds), 4, 3
precision, recall = -np.ones((T, R, K, A, M)), -np.ones((T, K, A, M))
for k, kid in enumerate(catIds):
    for a in range(A):
        for m, md in enumerate(maxDets):
            es = [E[kid, a, i] for i in imgIds if E[kid, a, i] is not None]
            if not es: continue
            sc = np.concatenate([e["s"][:md] for e in es]); inds = np.argsort(-sc, kind="mergesort")
            dtm = np.concatenate([e["m"][:, :md] for e in es], axis=1)[:, inds]
            dtIg = np.concatenate([e["i"][:, :md] for e in es], axis=1)[:, inds]
            npig = np.count_nonzero(np.concatenate([e["g"] for e in es]) == 0)
            if npig == 0: continue
            tps = np.cumsum(np.logical_and(dtm, np.logical_not(dtIg)), axis=1).astype(float)
            fps = np.cumsum(np.logical_and(np.logical_not(dtm), np.logical_not(dtIg)), axis=1).astype(float)
            for t in range(T):
                tp, fp = tps[t], fps[t]; nd = len(tp)
                rc, pr = tp / npig, (tp / (fp + tp + np.spacing(1))).tolist()
                recall[t, k, a, m] = rc[-1] if nd else 0
                for i in range(nd - 1, 0, -1):
                    if pr[i] > pr[i - 1]: pr[i - 1] = pr[i]
                q = np.zeros(R)
                for ri, pi in enumerate(np.searchsorted(rc, recThrs, side="left")):
                    if pi >= nd: break
                    q[ri] = pr[pi]
                precision[t, :, k, a, m] = q

def summarize(ap, iouThr=None, a=0, m=2):
    s = precision if ap else recall
    if iouThr is not None: s = s[np.where(iouThr == iouThrs)[0]]
    s = s[:, :, :, [a], [m]] if ap else s[:, :, [a], [m]]
    return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))

stats = [summarize(1), summarize(1, .5), summarize(1, .75), summarize(1, a=1), summarize(1, a=2), summarize(1, a=3),
         summarize(0, m=0), summarize(0, m=1), summarize(0), summarize(0, a=1), summarize(0, a=2), summarize(0, a=3)]
for g in anns:
    if rng.random() < 0.5 and "area" in g and g["area"] == g["bbox"][2] * g["bbox"][3]: del g["area"]  # reader must fall back to w*h
for d in res:
    del d["id"], d["area"], d["iscrowd"]
json.dump({"images": images, "annotations": anns, "categories": cats}, open("random_gt.json", "w"))
json.dump(res, open("random_dt.json", "w"))
json.dump({"stats": stats, "detections": len(res), "objects": len(anns)}, open("random_expected.json", "w"), indent=1)
print(len(anns), "objects", len(res), "detections", stats)
