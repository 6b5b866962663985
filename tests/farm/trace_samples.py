"""Hand-built trace records for the renderer tests (EPCIS, HTML page, browser, hub route):
a VietGAP rice lot of a cooperative in Đồng Tháp with a GTIN, a mango lot without one, and a
lot that failed the pre-harvest interval check."""

from __future__ import annotations

import dataclasses
import datetime as dt

from dxkit.farm.trace_record import TracePlot, TraceRecord, TraceStep

D = dt.date


def rice_lot() -> TraceRecord:
    plots = (
        TracePlot("Ruộng Bờ Đông", "VN-DTOR-0123", 2.5, "Ấp Mỹ Hưng, Xã Mỹ Đông, Đồng Tháp"),
        TracePlot("Ruộng Cây Dương", "VN-DTOR-0124", 1.8, "Ấp Đông Hòa, Xã Mỹ Đông, Đồng Tháp"),
    )
    steps = (
        TraceStep(D(2026, 7, 28), "land_preparation", "Ruộng Bờ Đông", note="Cày ải, trục bùn"),
        TraceStep(D(2026, 8, 2), "seed", "Ruộng Bờ Đông", product="Lúa giống ST25 xác nhận",
                  dose="80 kg/ha"),
        TraceStep(D(2026, 8, 3), "sowing", "Ruộng Cây Dương", product="Lúa giống ST25 xác nhận",
                  dose="80 kg/ha"),
        TraceStep(D(2026, 8, 20), "fertiliser", "Ruộng Bờ Đông", product="Phân NPK 20-20-15",
                  dose="150 kg/ha"),
        TraceStep(D(2026, 9, 15), "pesticide", "Ruộng Bờ Đông", product="Tilt Super 300EC",
                  active_ingredients=("Difenoconazole 150 g/l", "Propiconazole 150 g/l"),
                  dose="0,3 l/ha", note="Phòng bệnh lem lép hạt"),
        TraceStep(D(2026, 9, 16), "pesticide", "Ruộng Cây Dương", product="Chess 50WG",
                  active_ingredients=("Pymetrozine 50%",), dose="0,3 kg/ha"),
        TraceStep(D(2026, 10, 1), "irrigation", "Ruộng Cây Dương", note="Rút nước phơi ruộng"),
        TraceStep(D(2026, 11, 10), "harvest", "Ruộng Bờ Đông", quantity="16.500 kg"),
        TraceStep(D(2026, 11, 12), "harvest", "Ruộng Cây Dương", quantity="11.700 kg"),
        TraceStep(D(2026, 11, 20), "packing", "", quantity="28.000 kg"),
    )
    return TraceRecord(
        lot_code="MD-261120-007-0", lot_id="6f1d2c3b-4a5e-4f60-8a71-92b3c4d5e6f7",
        product="Gạo ST25", crop="Lúa", variety="ST25", quantity_kg=28000.0,
        pack_date=D(2026, 11, 20), harvest_dates=(D(2026, 11, 10), D(2026, 11, 12)),
        cooperative="HTX Nông nghiệp Mỹ Đông",
        cooperative_address="Ấp Mỹ Hưng, Xã Mỹ Đông, Tỉnh Đồng Tháp",
        season="Hè Thu 2026", certification="VietGAP", plots=plots, steps=steps,
        compliant=True, gtin="08938500000010",
        trace_url="https://truyxuat.dongthap.example.vn/t/MD-261120-007-0")


def mango_lot() -> TraceRecord:
    plots = (TracePlot("Vườn xoài Ba Tâm", "VN-DTOR-0456", 0.9,
                       "Ấp Hòa Khánh, Xã Hòa An, Đồng Tháp"),)
    steps = (
        TraceStep(D(2026, 9, 5), "fertiliser", "Vườn xoài Ba Tâm",
                  product="Phân hữu cơ vi sinh Sông Gianh", dose="2 kg/cây"),
        TraceStep(D(2026, 10, 2), "pesticide", "Vườn xoài Ba Tâm", product="Ortus 5SC",
                  active_ingredients=("Fenpyroximate 50 g/l",), dose="0,5 ml/l"),
        TraceStep(D(2026, 10, 20), "observation", "Vườn xoài Ba Tâm",
                  note="Bao trái bằng túi giấy"),
        TraceStep(D(2026, 11, 18), "harvest", "Vườn xoài Ba Tâm", quantity="1.250 kg"),
    )
    return TraceRecord(
        lot_code="HA-261119-002-2", lot_id="0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
        product="Xoài cát Hòa Lộc", crop="Xoài", variety="Cát Hòa Lộc", quantity_kg=1200.0,
        pack_date=D(2026, 11, 19), harvest_dates=(D(2026, 11, 18),),
        cooperative="HTX Xoài Hòa An", cooperative_address="Xã Hòa An, Tỉnh Đồng Tháp",
        season="Vụ nghịch 2026", certification="", plots=plots, steps=steps, compliant=True,
        trace_url="https://truyxuat.dongthap.example.vn/t/HA-261119-002-2")


def failed_lot() -> TraceRecord:
    """Sprayed 3 days before harvest with a product whose pre-harvest interval is 14 days."""
    base = mango_lot()
    spray = TraceStep(D(2026, 11, 15), "pesticide", "Vườn xoài Ba Tâm", product="Radiant 60SC",
                      active_ingredients=("Spinetoram 60 g/l",), dose="0,4 ml/l")
    return dataclasses.replace(
        base, lot_code="HA-261119-003-0", lot_id="1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7081",
        steps=(*base.steps[:3], spray, base.steps[3]), compliant=False,
        reasons=("Radiant 60SC phun ngày 15/11/2026, thu hoạch ngày 18/11/2026: chưa đủ thời "
                 "gian cách ly 14 ngày.",),
        trace_url="https://truyxuat.dongthap.example.vn/t/HA-261119-003-0")


def hostile_lot() -> TraceRecord:
    """Every text field a buyer sees carries markup that must come out as text."""
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    return dataclasses.replace(
        rice_lot(), product=f"Gạo {evil}", cooperative='HTX "Mỹ" & <b>Đông</b>',
        certification="VietGAP</h2><script>alert(2)</script>",
        plots=(TracePlot(f"Ruộng {evil}", "VN-<i>1</i>", None, "Ấp <u>1</u>"),),
        steps=(TraceStep(D(2026, 9, 15), "pesticide", f"Ruộng {evil}", product=evil,
                         active_ingredients=(evil,), dose="<b>1</b>", note=evil),),
        compliant=False, reasons=(evil,),
        trace_url='https://example.vn/t/X"><script>alert(3)</script>')


def all_samples() -> list[TraceRecord]:
    return [rice_lot(), mango_lot(), failed_lot()]
