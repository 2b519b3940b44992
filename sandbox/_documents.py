"""Shipping documents the sandbox serves: a small valid PDF (or ZPL) built in code."""

# pyright: standard

from __future__ import annotations

__all__ = ["label_pdf", "label_zpl"]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def label_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (4x6 inch) showing ``lines`` in Helvetica, with a correct cross-reference table."""
    text = ["BT", "/F1 14 Tf", "24 400 Td", "18 TL"]
    for line in lines:
        ascii_line = line.encode("ascii", "replace").decode("ascii")
        text.append(f"({_escape(ascii_line)}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def label_zpl(lines: list[str]) -> bytes:
    """A ZPL label (the format thermal printers take) showing ``lines``."""
    body = ["^XA"]
    for index, line in enumerate(lines):
        body.append(f"^FO40,{40 + 40 * index}^A0N,30,30^FD{line}^FS")
    body.append("^XZ")
    return "\n".join(body).encode("ascii", "replace")
