"""Traceability labels: templates (sheets, thermal rolls, custom, gLabels), QR codes sized to
scan, text that fits, PDF rendering, and an independent decode check of the result.

    template = template_named("a4-3x7")
    pdf = render_labels(template, [LabelContent(...)], start_position=4, copies=2)
    report = verify_pdf(pdf)          # count, payloads, positions, module sizes
    images = preview_pages(pdf, 96)   # for a print preview
"""

from dxkit.labels.content import LabelContent, label_lines
from dxkit.labels.errors import LabelError
from dxkit.labels.glabels import load_glabels
from dxkit.labels.render import render_labels
from dxkit.labels.templates import (
    BUILTIN_TEMPLATES,
    Template,
    custom_template,
    template_named,
)
from dxkit.labels.verify import (
    DecodedCode,
    VerifyReport,
    page_texts,
    preview_pages,
    verify_pdf,
)

__all__ = [
    "BUILTIN_TEMPLATES",
    "DecodedCode",
    "LabelContent",
    "LabelError",
    "Template",
    "VerifyReport",
    "custom_template",
    "label_lines",
    "load_glabels",
    "page_texts",
    "preview_pages",
    "render_labels",
    "template_named",
    "verify_pdf",
]
