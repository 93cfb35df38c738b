#!/usr/bin/env python3
"""Reads a COCO object-detection file as the format's description says it is
(cocodataset.org/#format-data: "images", "annotations" and "categories"; a bbox is
[x, y, width, height] in pixels from the image's top left corner) and checks it: every id
unique, every annotation on a listed image with a declared category, every box a real area
inside its image. An annotation with a "segmentation" of polygons (lists of x, y, x, y, ...)
has its bbox their bounds and its area the area they enclose; one with "keypoints" ([x, y, v]
each) has them inside its bbox. Written from the format's description, not from microwork's
writer.

    check_coco.py FILE      prints "coco: N images, M boxes, K categories" (or polygons, or
                            points, by what the annotations are) or why not, exit 1
"""
import json
import numbers
import sys


def fail(why):
    print(f"coco: {why}")
    sys.exit(1)


def number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        data = json.load(f)
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            fail(f'"{key}" is not a list')
    images, categories = {}, {}
    for im in data["images"]:
        if not isinstance(im.get("id"), int) or im["id"] in images:
            fail(f"image id missing or repeated: {im}")
        if not isinstance(im.get("file_name"), str) or not im["file_name"]:
            fail(f"image without a file_name: {im}")
        if not (isinstance(im.get("width"), int) and im["width"] > 0 and
                isinstance(im.get("height"), int) and im["height"] > 0):
            fail(f"image without a size: {im}")
        images[im["id"]] = im
    names = set()
    for c in data["categories"]:
        if not isinstance(c.get("id"), int) or c["id"] in categories:
            fail(f"category id missing or repeated: {c}")
        if not isinstance(c.get("name"), str) or c["name"] in names:
            fail(f"category name missing or repeated: {c}")
        names.add(c["name"])
        categories[c["id"]] = c
    seen, kinds = set(), {}
    for a in data["annotations"]:
        if not isinstance(a.get("id"), int) or a["id"] in seen:
            fail(f"annotation id missing or repeated: {a}")
        seen.add(a["id"])
        if a.get("image_id") not in images:
            fail(f"annotation on an image not listed: {a}")
        if a.get("category_id") not in categories:
            fail(f"annotation of a category not declared: {a}")
        if a.get("iscrowd") not in (0, 1):
            fail(f"iscrowd is not 0 or 1: {a}")
        box = a.get("bbox")
        if not (isinstance(box, list) and len(box) == 4 and all(number(v) for v in box)):
            fail(f"bbox is not [x, y, width, height]: {a}")
        x, y, w, h = box
        im = images[a["image_id"]]
        if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > im["width"] or y + h > im["height"]:
            fail(f"box {box} is not inside its {im['width']}x{im['height']} image: {a}")
        seg, points = a.get("segmentation"), a.get("keypoints")
        if seg is not None:
            if not (isinstance(seg, list) and seg and all(
                    isinstance(p, list) and len(p) >= 6 and len(p) % 2 == 0 and
                    all(number(v) for v in p) for p in seg)):
                fail(f"segmentation is not polygons of x, y, x, y, ...: {a}")
            xs = [p[i] for p in seg for i in range(0, len(p), 2)]
            ys = [p[i] for p in seg for i in range(1, len(p), 2)]
            if (min(xs), min(ys), max(xs), max(ys)) != (x, y, x + w, y + h):
                fail(f"bbox {box} is not the bounds of the segmentation: {a}")
            area = 0
            for p in seg:
                n = len(p) // 2
                area += abs(sum(p[2 * i] * p[2 * ((i + 1) % n) + 1] -
                                p[2 * ((i + 1) % n)] * p[2 * i + 1] for i in range(n))) / 2
            if not number(a.get("area")) or abs(a["area"] - area) > 1e-6 * max(1, area):
                fail(f"area is not the area the segmentation encloses ({area}): {a}")
            kinds["polygons"] = kinds.get("polygons", 0) + 1
            continue
        if not number(a.get("area")) or abs(a["area"] - w * h) > 1e-6 * max(1, w * h):
            fail(f"area is not width x height: {a}")
        if points is not None:
            if not (isinstance(points, list) and points and len(points) % 3 == 0 and
                    all(number(v) for v in points)):
                fail(f"keypoints are not [x, y, v, ...]: {a}")
            for i in range(0, len(points), 3):
                px, py, v = points[i:i + 3]
                if v not in (0, 1, 2) or (v > 0 and not (x <= px <= x + w and y <= py <= y + h)):
                    fail(f"keypoint ({px}, {py}) is not inside its bbox {box}: {a}")
            kinds["points"] = kinds.get("points", 0) + 1
            continue
        kinds["boxes"] = kinds.get("boxes", 0) + 1
    counted = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "0 boxes"
    print(f"coco: {len(images)} images, {counted}, {len(categories)} categories")


if __name__ == "__main__":
    main()
