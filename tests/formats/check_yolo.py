#!/usr/bin/env python3
"""Reads a YOLO label folder as Ultralytics documents it (docs.ultralytics.com/datasets/detect:
one labels/<image>.txt per image, a line per object "class x_center y_center width height",
the four normalised to 0..1 of the image's size; the class names in order, here classes.txt)
and checks every line: five fields, a class that is named, a box inside the image. Written
from the format's description, not from microwork's writer.

    check_yolo.py FOLDER    prints "yolo: N label files, M boxes, K classes" or why not, exit 1
"""
import os
import sys


def fail(why):
    print(f"yolo: {why}")
    sys.exit(1)


def main():
    folder = sys.argv[1]
    with open(os.path.join(folder, "classes.txt"), encoding="utf-8") as f:
        classes = [line.rstrip("\n") for line in f if line.strip()]
    files = boxes = 0
    for root, _, names in os.walk(os.path.join(folder, "labels")):
        for name in names:
            if not name.endswith(".txt"):
                fail(f"{name}: not a .txt label file")
            files += 1
            with open(os.path.join(root, name), encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    parts = line.split()
                    if len(parts) != 5:
                        fail(f"{name}:{n}: expected 5 fields, got {line!r}")
                    if not parts[0].isdigit() or int(parts[0]) >= len(classes):
                        fail(f"{name}:{n}: class {parts[0]} is not one of {len(classes)}")
                    cx, cy, w, h = map(float, parts[1:])
                    eps = 1e-6
                    if not (0 < w <= 1 and 0 < h <= 1 and cx - w / 2 >= -eps and
                            cy - h / 2 >= -eps and cx + w / 2 <= 1 + eps and cy + h / 2 <= 1 + eps):
                        fail(f"{name}:{n}: box {parts[1:]} is not inside the image")
                    boxes += 1
    print(f"yolo: {files} label files, {boxes} boxes, {len(classes)} classes")


if __name__ == "__main__":
    main()
