#!/usr/bin/env python3
"""Renders each street photo of photos.csv as a 640x480 PNG with its vehicles where truth.csv
boxes them: sky, buildings, a road with its lanes, and each car, bus or motorbike filling its
box (body, windows, wheels). Standard library only (zlib), so it runs wherever Debian's python3
does; deterministic, so the same truth gives the same bytes.

    streets.py FOLDER
"""
import csv
import os
import struct
import sys
import zlib

W, H = 640, 480
HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, rows):
    raw = b"".join(b"\x00" + bytes(r) for r in rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    with open(path + ".part", "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))
    os.replace(path + ".part", path)


def fill(rows, x0, y0, x1, y1, rgb):
    x0, x1 = max(0, x0), min(W, x1)
    for y in range(max(0, y0), min(H, y1)):
        rows[y][x0 * 3:x1 * 3] = bytes(rgb) * (x1 - x0)


def scene(index, boxes):
    rows = []
    for y in range(H):
        if y < 250:
            c = (150 + y // 5, 190 + y // 8, 235)  # sky, lighter towards the horizon
        else:
            c = (70 + (y - 250) // 12, 70 + (y - 250) // 12, 75 + (y - 250) // 12)  # road
        rows.append(bytearray(bytes(c) * W))
    # Buildings along the horizon, their heights from the photo's number.
    x = 0
    k = index
    while x < W:
        w = 60 + (k * 37) % 70
        top = 90 + (k * 53) % 110
        grey = 120 + (k * 29) % 80
        fill(rows, x, top, x + w - 4, 250, (grey, grey - 10, grey - 20))
        for wy in range(top + 10, 240, 22):
            for wx in range(x + 8, x + w - 14, 18):
                fill(rows, wx, wy, wx + 9, wy + 12, (200, 210, 120))
        x += w
        k += 1
    fill(rows, 0, 250, W, 262, (160, 160, 150))  # kerb
    for lane in (330, 410):
        for dx in range(0, W, 60):
            fill(rows, dx + ((index * 13) % 60), lane, dx + ((index * 13) % 60) + 30, lane + 4,
                 (235, 235, 235))
    palette = [(200, 30, 30), (30, 90, 200), (240, 240, 240), (20, 20, 20), (120, 120, 130),
               (230, 180, 20)]
    for n, (label, x0, y0, x1, y1) in enumerate(boxes):
        w, h = x1 - x0, y1 - y0
        wheel = (15, 15, 15)
        if label == "bus":
            body = (40, 140, 60) if (index + n) % 2 else (235, 190, 30)
            fill(rows, x0, y0, x1, y1 - h // 8, body)
            for wx in range(x0 + 8, x1 - 24, w // 6):
                fill(rows, wx, y0 + h // 8, wx + w // 8, y0 + h // 2, (170, 210, 230))
            fill(rows, x0 + w // 8, y1 - h // 6, x0 + w // 8 + h // 5, y1, wheel)
            fill(rows, x1 - w // 8 - h // 5, y1 - h // 6, x1 - w // 8, y1, wheel)
        elif label == "car":
            body = palette[(index * 3 + n) % len(palette)]
            fill(rows, x0 + w // 5, y0, x1 - w // 5, y0 + h // 2, body)  # cabin
            fill(rows, x0 + w // 5 + 4, y0 + 4, x1 - w // 5 - 4, y0 + h // 2 - 2, (160, 200, 225))
            fill(rows, x0, y0 + h // 2, x1, y1 - h // 6, body)
            fill(rows, x0 + w // 8, y1 - h // 4, x0 + w // 8 + h // 3, y1, wheel)
            fill(rows, x1 - w // 8 - h // 3, y1 - h // 4, x1 - w // 8, y1, wheel)
        else:  # motorbike and rider
            fill(rows, x0 + w // 3, y0, x1 - w // 3, y0 + h // 5, (200, 40, 40))  # helmet
            fill(rows, x0 + w // 4, y0 + h // 5, x1 - w // 4, y0 + h // 2, (40, 60, 120))
            fill(rows, x0 + w // 6, y0 + h // 2, x1 - w // 6, y1 - h // 4, (90, 20, 20))
            fill(rows, x0, y1 - h // 3, x0 + w // 3, y1, wheel)
            fill(rows, x1 - w // 3, y1 - h // 3, x1, y1, wheel)
    return rows


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "streets")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(HERE, "truth.csv"), newline="") as f:
        truth = {r["photo_id"]: r["vehicles"] for r in csv.DictReader(f)}
    with open(os.path.join(HERE, "photos.csv"), newline="") as f:
        photos = list(csv.DictReader(f))
    for index, row in enumerate(photos, 1):
        path = os.path.join(out, row["photo"])
        if os.path.exists(path):
            continue
        boxes = []
        for part in filter(None, truth[row["photo_id"]].split(";")):
            label, xy = part.split(":")
            boxes.append((label, *map(int, xy.split(","))))
        png(path, scene(index, boxes))


if __name__ == "__main__":
    main()
