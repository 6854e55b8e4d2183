"""Decodes a PNG with Pillow (the peer decoder) and compares its RGB pixels with raw bytes.
Usage: png_pil_check.py IMAGE.png PIXELS.bin WIDTH HEIGHT; exit 0 when equal."""
import sys

from PIL import Image

png, raw, w, h = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
im = Image.open(png)
im.load()
ok = im.mode == "RGB" and im.size == (w, h) and im.tobytes() == open(raw, "rb").read()
print("pillow:", im.mode, im.size, "equal" if ok else "DIFFERENT")
sys.exit(0 if ok else 1)
