"""Draws the few simple diagrams of the course pack vn.dxkit.ky-nang-so-co-ban
(original, generated).

Run: .venv/bin/python scripts/draw_course_images.py
Writes PNGs into dxkit/resources/courses/vn.dxkit.ky-nang-so-co-ban/images/.
"""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "dxkit" / "resources" / "fonts"
OUT = ROOT / "dxkit" / "resources" / "courses" / "vn.dxkit.ky-nang-so-co-ban" / "images"

BLUE = (21, 101, 192)
GREEN = (46, 125, 50)
RED = (198, 40, 40)
GREY = (66, 66, 66)
LIGHT = (232, 240, 254)
WHITE = (255, 255, 255)


def font(size, bold=False):
    name = "DejaVuSansCondensed-Bold.ttf" if bold else "DejaVuSansCondensed.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def wrap(draw, text, fnt, width):
    lines, line = [], ""
    for word in text.split():
        trial = (line + " " + word).strip()
        if draw.textlength(trial, font=fnt) <= width:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def steps(filename, title, items, accent=BLUE, warn=None):
    """A row of numbered boxes joined by arrows; an optional warning strip below."""
    n = len(items)
    box_w, box_h, gap, margin = 250, 230, 50, 40
    width = margin * 2 + n * box_w + (n - 1) * gap
    height = 130 + box_h + (110 if warn else 40)
    img = Image.new("RGB", (width, height), WHITE)
    d = ImageDraw.Draw(img)
    d.text((margin, 30), title, font=font(40, True), fill=accent)
    top = 110
    for i, (head, body) in enumerate(items):
        x = margin + i * (box_w + gap)
        d.rounded_rectangle((x, top, x + box_w, top + box_h), radius=22, fill=LIGHT,
                            outline=accent, width=4)
        cx = x + 38
        d.ellipse((cx - 24, top + 18, cx + 24, top + 66), fill=accent)
        num = str(i + 1)
        f = font(30, True)
        d.text((cx - d.textlength(num, font=f) / 2, top + 24), num, font=f, fill=WHITE)
        y = top + 20
        for line in wrap(d, head, font(26, True), box_w - 90):
            d.text((x + 76, y), line, font=font(26, True), fill=GREY)
            y += 32
        y = max(y, top + 80) + 6
        for line in wrap(d, body, font(23), box_w - 30):
            d.text((x + 16, y), line, font=font(23), fill=GREY)
            y += 29
        if i < n - 1:
            ax = x + box_w + 8
            ay = top + box_h // 2
            d.line((ax, ay, ax + gap - 16, ay), fill=accent, width=6)
            d.polygon([(ax + gap - 10, ay), (ax + gap - 26, ay - 12),
                       (ax + gap - 26, ay + 12)], fill=accent)
    if warn:
        y = top + box_h + 30
        d.rounded_rectangle((margin, y, width - margin, y + 62), radius=14,
                            fill=(255, 235, 238), outline=RED, width=3)
        d.text((margin + 20, y + 14), warn, font=font(27, True), fill=RED)
    OUT.mkdir(parents=True, exist_ok=True)
    img.save(OUT / filename, optimize=True)


def main():
    steps("vneid-muc-2.png", "Có tài khoản VNeID mức 2", [
        ("Cài VNeID", "Từ CH Play hoặc App Store, nhà phát triển thuộc Bộ Công an"),
        ("Ra Công an xã", "Mang thẻ căn cước gắn chip và điện thoại, sim chính chủ"),
        ("Nhận mã", "Tin nhắn có mã kích hoạt gửi về số điện thoại của mình"),
        ("Kích hoạt", "Nhập số định danh, số điện thoại, mã; đặt mật khẩu và mã bảo vệ"),
    ], warn="Công an không gọi điện bảo cài hay kích hoạt VNeID qua đường link.")
    steps("thanh-toan-qr.png", "Trả tiền bằng mã QR", [
        ("Mở ứng dụng", "Mở ứng dụng ngân hàng hoặc ví của chính mình"),
        ("Quét mã", "Chọn Quét QR, đưa camera vào mã của người bán"),
        ("Đọc tên", "Tên người nhận có đúng người bán không? Số tiền đúng chưa?"),
        ("Xác nhận", "Bấm xác nhận, chờ báo thành công và cho người bán xem"),
    ], accent=GREEN, warn="Tên người nhận sai hoặc lạ: DỪNG LẠI, không bấm xác nhận.")
    label()


def label():
    """A sample traceability label next to what the buyer sees after scanning it."""
    width, height = 1100, 560
    img = Image.new("RGB", (width, height), WHITE)
    d = ImageDraw.Draw(img)
    d.text((40, 24), "Tem truy xuất nguồn gốc: quét mã thấy gì?", font=font(38, True), fill=GREEN)
    # the label
    d.rounded_rectangle((40, 100, 480, 520), radius=20, fill=(241, 248, 233), outline=GREEN,
                        width=4)
    d.text((64, 120), "HTX (tên hợp tác xã)", font=font(28, True), fill=GREY)
    d.text((64, 160), "Xoài cát – 5 kg", font=font(26), fill=GREY)
    d.text((64, 196), "Lô thu hoạch: L-0312", font=font(26), fill=GREY)
    # a simple QR-like block pattern (decorative, not a real code)
    x0, y0, cell = 64, 250, 20
    pattern = [
        "1111111001011",
        "1000001011001",
        "1011101000111",
        "1011101101010",
        "1011101011101",
        "1000001010011",
        "1111111010101",
        "0000000011100",
        "1101011100111",
        "1011100101001",
        "1111111011101",
        "1000001001011",
        "1111111010110",
    ]
    for r, row in enumerate(pattern):
        for c, ch in enumerate(row):
            if ch == "1":
                d.rectangle((x0 + c * cell, y0 + r * cell, x0 + (c + 1) * cell - 1,
                             y0 + (r + 1) * cell - 1), fill=GREY)
    d.text((x0 + 13 * cell + 14, y0 + 90), "Quét\nbằng\ncamera", font=font(24), fill=GREY)
    # arrow
    d.line((500, 310, 570, 310), fill=GREEN, width=8)
    d.polygon([(590, 310), (566, 292), (566, 328)], fill=GREEN)
    # the page
    d.rounded_rectangle((600, 100, 1060, 520), radius=20, fill=LIGHT, outline=BLUE, width=4)
    rows = [
        ("Nguồn gốc", "xã, tỉnh nơi trồng"),
        ("Người sản xuất", "hợp tác xã, hộ trồng"),
        ("Nhật ký canh tác", "bón phân, phun thuốc, ngày cách ly"),
        ("Lô thu hoạch", "ngày hái, đóng gói"),
    ]
    y = 124
    for head, body in rows:
        d.text((624, y), "✓ " + head, font=font(27, True), fill=BLUE)
        d.text((660, y + 36), body, font=font(24), fill=GREY)
        y += 96
    img.save(OUT / "tem-truy-xuat.png", optimize=True)


if __name__ == "__main__":
    main()
