"""Draws the sample site's two photos; run once, the JPEGs are in git.

    .venv/bin/python -m responsive_images.sample_photos content/images/artikelen

(with ``plugins`` on the path, as pytest and pelicanconf.py put it). Both are made
here, from shapes, soft light and grain, so the sample site holds nothing taken from
elsewhere. The shapes are seeded; the grain differs a little from run to run.
"""

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 1600, 1000


def vertical_gradient(top: tuple, bottom: tuple) -> Image.Image:
    column = Image.new("RGB", (1, HEIGHT))
    for y in range(HEIGHT):
        share = y / (HEIGHT - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * share) for a, b in zip(top, bottom, strict=True)))
    return column.resize((WIDTH, HEIGHT))


def with_grain(image: Image.Image, strength: int = 10) -> Image.Image:
    """Sensor grain and a soft vignette, as a camera would give."""
    noise = Image.effect_noise((WIDTH, HEIGHT), strength).convert("RGB")
    grained = Image.blend(image, noise, 0.06)
    vignette = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(vignette).ellipse((-300, -250, WIDTH + 300, HEIGHT + 250), fill=255)
    vignette = vignette.filter(ImageFilter.GaussianBlur(220))
    return Image.composite(grained, Image.new("RGB", grained.size, (30, 26, 24)), vignette)


def telephone_on_desk() -> Image.Image:
    """A desk phone, a notebook and a cup of coffee in morning light."""
    random.seed(2025)
    image = vertical_gradient((222, 214, 198), (186, 170, 150))
    draw = ImageDraw.Draw(image)
    # Window light on the wall, the desk top and its edge.
    light = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(light).polygon([(900, 0), (1500, 0), (1250, 560), (640, 560)], fill=90)
    image.paste((250, 240, 220), mask=light.filter(ImageFilter.GaussianBlur(60)))
    draw.rectangle((0, 560, WIDTH, HEIGHT), fill=(122, 86, 58))
    for _ in range(140):  # wood grain
        y = random.randint(565, HEIGHT)
        draw.line((0, y, WIDTH, y + random.randint(-12, 12)),
                  fill=(110 + random.randint(-12, 12), 76, 50), width=random.randint(1, 3))
    draw.rectangle((0, 556, WIDTH, 572), fill=(96, 66, 44))
    shadows = Image.new("L", (WIDTH, HEIGHT), 0)
    shade = ImageDraw.Draw(shadows)
    shade.rounded_rectangle((330, 700, 880, 950), 40, fill=150)
    shade.ellipse((1110, 760, 1390, 880), fill=150)
    shade.rectangle((960, 650, 1260, 990), fill=110)
    image.paste((60, 40, 28), mask=shadows.filter(ImageFilter.GaussianBlur(25)))
    # The phone: body, handset, keypad.
    draw.rounded_rectangle((300, 640, 840, 900), 36, fill=(38, 44, 52))
    draw.rounded_rectangle((320, 600, 820, 690), 44, fill=(30, 35, 42))
    for row in range(3):
        for column in range(4):
            x, y = 560 + column * 62, 730 + row * 52
            draw.rounded_rectangle((x, y, x + 46, y + 36), 8, fill=(210, 214, 218))
    draw.rectangle((360, 730, 520, 840), fill=(120, 170, 180))
    # The notebook and a pen, the cup and its coffee.
    draw.polygon([(930, 640), (1240, 620), (1280, 960), (960, 985)], fill=(244, 240, 230))
    for line in range(8):
        draw.line((960, 680 + line * 36, 1250, 662 + line * 36), fill=(176, 190, 205), width=2)
    draw.line((990, 930, 1230, 700), fill=(29, 78, 90), width=10)
    draw.ellipse((1120, 690, 1380, 820), fill=(236, 234, 228))
    draw.rectangle((1120, 755, 1380, 850), fill=(236, 234, 228))
    draw.ellipse((1120, 790, 1380, 910), fill=(236, 234, 228))
    draw.ellipse((1140, 700, 1360, 800), fill=(92, 58, 36))
    draw.arc((1350, 740, 1440, 840), -90, 90, fill=(236, 234, 228), width=18)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    return with_grain(image)


def video_call_at_home() -> Image.Image:
    """A laptop on a kitchen table with a video call of four faces, a plant beside it."""
    random.seed(2024)
    image = vertical_gradient((196, 210, 206), (150, 166, 160))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 640, WIDTH, HEIGHT), fill=(214, 196, 168))
    draw.rectangle((0, 636, WIDTH, 650), fill=(180, 160, 132))
    # The plant: a pot and leaves.
    draw.polygon([(1260, 640), (1420, 640), (1395, 800), (1285, 800)], fill=(166, 61, 23))
    for _ in range(26):
        x, y = 1340 + random.randint(-150, 150), 560 + random.randint(-260, 40)
        draw.ellipse((x - 50, y - 20, x + 50, y + 20), fill=(50 + random.randint(0, 40),
                                                              110 + random.randint(0, 50), 60))
    # The laptop: screen, bezel, base.
    draw.polygon([(340, 860), (1180, 860), (1260, 930), (260, 930)], fill=(170, 176, 184))
    draw.rounded_rectangle((380, 300, 1140, 860), 18, fill=(40, 44, 50))
    draw.rectangle((410, 330, 1110, 830), fill=(28, 32, 38))
    skins = [(230, 190, 160), (160, 110, 80), (240, 205, 180), (120, 80, 60)]
    shirts = [(29, 78, 90), (166, 61, 23), (80, 90, 110), (200, 170, 60)]
    walls = [(220, 225, 230), (205, 190, 170), (180, 200, 215), (230, 215, 200)]
    for index in range(4):
        tile = Image.new("RGB", (335, 235), walls[index])
        person = ImageDraw.Draw(tile)
        person.ellipse((70, 150, 265, 330), fill=shirts[index])
        person.ellipse((125, 50, 210, 150), fill=skins[index])
        image.paste(tile, (420 + (index % 2) * 345, 340 + (index // 2) * 245))
    draw.rectangle((410, 830, 1110, 830), fill=(10, 10, 10))
    glow = Image.new("L", (WIDTH, HEIGHT), 0)
    ImageDraw.Draw(glow).ellipse((300, 780, 1220, 1000), fill=70)
    image.paste((235, 240, 250), mask=glow.filter(ImageFilter.GaussianBlur(80)))
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    return with_grain(image)


def main(folder: str) -> None:
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, draw in (("telefoon-op-bureau.jpg", telephone_on_desk),
                       ("videogesprek-thuis.jpg", video_call_at_home)):
        draw().save(target / name, "JPEG", quality=84, optimize=True, progressive=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "content/images/artikelen")
