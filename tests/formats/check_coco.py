#!/usr/bin/env python3
"""Reads a COCO object-detection file as the format's description says it is
(cocodataset.org/#format-data: "images", "annotations" and "categories"; a bbox is
[x, y, width, height] in pixels from the image's top left corner) and checks it: every id
unique, every annotation on a listed image with a declared category, every box a real area
inside its image. Written from the format's description, not from microwork's writer.

    check_coco.py FILE      prints "coco: N images, M boxes, K categories" or why not, exit 1
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
    seen = set()
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
        if not number(a.get("area")) or abs(a["area"] - w * h) > 1e-6 * max(1, w * h):
            fail(f"area is not width x height: {a}")
    print(f"coco: {len(images)} images, {len(seen)} boxes, {len(categories)} categories")


if __name__ == "__main__":
    main()
