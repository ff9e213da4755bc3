#!/usr/bin/env python3
"""Builds the real-producer corpus of enforcer/tests/corpus.

Every file is written by the program people use to make that kind of file,
twice: once with planted test values (planted/) and once with the same
layout and no sensitive value (clean/). manifest.json names each file's
producer, its version and the detectors that must fire on the planted copy;
reference/ holds the text an ordinary extractor reads from each PDF and
Office file (MuPDF for PDFs, LibreOffice, python-docx, openpyxl and
python-pptx for Office files), for the differential test.

The generated files are committed: `make test` needs none of the producers.
Run it again (from anywhere) to rebuild them:

    python3 enforcer/tests/corpus/generate.py           # everything
    python3 enforcer/tests/corpus/generate.py images    # one section

Needs (Debian 12): chromium, libreoffice-writer-nogui libreoffice-calc-nogui
libreoffice-impress-nogui, pandoc, wkhtmltopdf, groff, texlive-latex-base,
qpdf, p7zip-full, imagemagick, libimage-exiftool-perl, ghostscript,
xz-utils, bzip2, zstd, poppler-utils; (PyPI) reportlab, PyMuPDF, python-docx, openpyxl,
python-pptx. Python's own email and mailbox packages write the e-mail.

Planted values are public test values: Visa's test card 4111 1111 1111 1111,
an SSN of valid shape from no real person (536-22-8452, the SSN detector's
own fixtures use it), the ECBS example IBAN GB82 WEST 1234 5698 7654 32 and
an address at example.com (RFC 2606).
"""

import base64
import email.message
import email.policy
import json
import mailbox
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALL = ["credit_card", "us_ssn", "iban", "email"]

VALUES = {
    "card": "4111 1111 1111 1111",
    "ssn": "536-22-8452",
    "iban": "GB82 WEST 1234 5698 7654 32",
    "mail": "jane.roe@example.com",
}
CLEAN = {
    "card": "not on file",
    "ssn": "withheld on request",
    "iban": "see the signed form",
    "mail": "the front desk",
}

MANIFEST = {}


def lines(v):
    return [
        "Quarterly customer record",
        "Customer name: Jane Roe, Springfield office",
        f"Card number: {v['card']}",
        f"Social security number (SSN): {v['ssn']}",
        f"Bank account IBAN: {v['iban']}",
        f"Contact e-mail: {v['mail']}",
        "Reviewed by the billing team before the end of the quarter.",
    ]


def run(*cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def out(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except Exception as e:  # a producer that is missing is reported, not fatal
        return f"unknown ({e})"


def versions():
    import docx
    import fitz
    import openpyxl
    import pptx
    import reportlab

    return {
        "chromium": out(["chromium", "--version"]),
        "libreoffice": out(["soffice", "--version"]),
        "pandoc": out(["pandoc", "--version"]),
        "wkhtmltopdf": out(["wkhtmltopdf", "--version"]),
        "groff": out(["groff", "--version"]),
        "pdflatex": out(["pdflatex", "--version"]),
        "qpdf": out(["qpdf", "--version"]),
        "7-zip": next((l for l in subprocess.run(["7z"], capture_output=True, text=True).stdout.splitlines() if "7-Zip" in l), "7-Zip"),
        "imagemagick": out(["convert", "--version"]),
        "ghostscript": "Ghostscript " + out(["gs", "--version"]),
        "xz": out(["xz", "--version"]),
        "bzip2": out(["bzip2", "--help"]),
        "zstd": out(["zstd", "--version"]),
        "reportlab": f"reportlab {reportlab.Version}",
        "pymupdf": f"PyMuPDF {fitz.VersionBind} (MuPDF {fitz.VersionFitz})",
        "python-docx": f"python-docx {docx.__version__ if hasattr(docx, '__version__') else '?'}",
        "openpyxl": f"openpyxl {openpyxl.__version__}",
        "python-pptx": f"python-pptx {pptx.__version__}",
        "python-email": f"Python {sys.version.split()[0]} email",
    }


def record(set_dir, name, producer, fmt, expect):
    if set_dir.name == "planted":
        MANIFEST[name] = {"producer": producer, "format": fmt, "expect": expect}


def html_doc(v, font="serif"):
    body = "".join(f"<p>{l}</p>" for l in lines(v))
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Customer record</title></head><body style='font-family:{font}'>{body}</body></html>"


def make_pdfs(d, v, tmp):
    html = tmp / "doc.html"
    html.write_text(html_doc(v))
    run("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
        f"--print-to-pdf={d / 'chromium.pdf'}", html.as_uri())
    record(d, "chromium.pdf", "chromium", "pdf", ALL)
    run("wkhtmltopdf", "-q", str(html), str(d / "wkhtmltopdf.pdf"))
    record(d, "wkhtmltopdf.pdf", "wkhtmltopdf", "pdf", ALL)

    ms = tmp / "doc.ms"
    ms.write_text("".join(f".PP\n{l}\n" for l in lines(v)))
    with open(d / "groff.pdf", "wb") as f:
        subprocess.run(["groff", "-ms", "-Tpdf", str(ms)], check=True, stdout=f, stderr=subprocess.DEVNULL)
    record(d, "groff.pdf", "groff", "pdf", ALL)
    with open(tmp / "doc.ps", "wb") as f:
        subprocess.run(["groff", "-ms", "-Tps", str(ms)], check=True, stdout=f, stderr=subprocess.DEVNULL)
    run("gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={d / 'ghostscript.pdf'}", str(tmp / "doc.ps"))
    record(d, "ghostscript.pdf", "ghostscript", "pdf", ALL)

    tex = tmp / "doc.tex"
    esc = [l.replace("_", "\\_").replace("&", "\\&") for l in lines(v)]
    tex.write_text("\\documentclass{article}\\begin{document}\n" + "\n\n".join(esc) + "\n\\end{document}\n")
    run("pdflatex", "-interaction=batchmode", "-output-directory", str(tmp), str(tex))
    shutil.copy(tmp / "doc.pdf", d / "pdflatex.pdf")
    record(d, "pdflatex.pdf", "pdflatex", "pdf", ALL)

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(d / "reportlab.pdf"), pagesize=A4)
    y = 780
    for l in lines(v):
        c.drawString(72, y, l)
        y -= 18
    c.save()
    record(d, "reportlab.pdf", "reportlab", "pdf", ALL)

    import fitz

    doc = fitz.open()
    page = doc.new_page()
    page.insert_text((72, 72), "\n".join(lines(v)), fontname="Times-Roman", fontsize=11)
    doc.save(d / "pymupdf.pdf")
    record(d, "pymupdf.pdf", "pymupdf", "pdf", ALL)
    doc.save(d / "pymupdf_aes256.pdf", encryption=fitz.PDF_ENCRYPT_AES_256, owner_pw="owner-secret", user_pw="",
             permissions=fitz.PDF_PERM_PRINT)
    record(d, "pymupdf_aes256.pdf", "pymupdf", "pdf", ALL)
    doc.save(d / "pymupdf_rc4.pdf", encryption=fitz.PDF_ENCRYPT_RC4_128, owner_pw="owner-secret", user_pw="",
             permissions=fitz.PDF_PERM_PRINT)
    record(d, "pymupdf_rc4.pdf", "pymupdf", "pdf", ALL)
    # Only the document's Title carries the card.
    meta = fitz.open()
    meta.new_page().insert_text((72, 72), "Quarterly customer record: see the document properties.")
    meta.set_metadata({"title": f"Card {v['card']}", "author": "Jane Roe", "subject": f"Reach {v['mail']}"})
    meta.save(d / "pymupdf_metadata.pdf")
    record(d, "pymupdf_metadata.pdf", "pymupdf", "pdf", ["credit_card", "email"])

    run("qpdf", "--encrypt", "", "owner-secret", "256", "--", str(d / "reportlab.pdf"), str(d / "qpdf_aes256.pdf"))
    record(d, "qpdf_aes256.pdf", "qpdf", "pdf", ALL)
    run("qpdf", "--allow-weak-crypto", "--encrypt", "", "owner-secret", "128", "--use-aes=n", "--", str(d / "reportlab.pdf"), str(d / "qpdf_rc4.pdf"))
    record(d, "qpdf_rc4.pdf", "qpdf", "pdf", ALL)


def make_office(d, v, tmp):
    import docx
    import openpyxl
    import pptx
    from openpyxl.comments import Comment

    document = docx.Document()
    for l in lines(v):
        document.add_paragraph(l)
    document.save(d / "python-docx.docx")
    record(d, "python-docx.docx", "python-docx", "office", ALL)

    wb = openpyxl.Workbook()
    ws = wb.active
    for i, l in enumerate(lines(v), 1):
        key, _, value = l.partition(": ")
        ws.cell(row=i, column=1, value=key)
        ws.cell(row=i, column=2, value=value or None)
    wb.save(d / "openpyxl.xlsx")
    record(d, "openpyxl.xlsx", "openpyxl", "office", ALL)
    # The card only in a cell comment.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "Card number"
    ws["B1"] = "see comment"
    ws["B1"].comment = Comment(f"Card {v['card']}", "Jane Roe")
    wb.save(d / "openpyxl_comment.xlsx")
    record(d, "openpyxl_comment.xlsx", "openpyxl", "office", ["credit_card"])

    prs = pptx.Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = lines(v)[0]
    slide.placeholders[1].text = "\n".join(lines(v)[1:])
    prs.save(d / "python-pptx.pptx")
    record(d, "python-pptx.pptx", "python-pptx", "office", ALL)

    md = tmp / "doc.md"
    md.write_text("\n\n".join(lines(v)) + "\n")
    for ext in ["docx", "odt", "rtf", "html", "epub"]:
        run("pandoc", str(md), "-o", str(d / f"pandoc.{ext}"))
        record(d, f"pandoc.{ext}", "pandoc", "office" if ext != "html" else "text", ALL)

    conversions = [
        ("python-docx.docx", ["odt", "doc", "rtf", "pdf"]),
        ("openpyxl.xlsx", ["ods", "xls"]),
        ("python-pptx.pptx", ["odp", "ppt"]),
    ]
    for source, targets in conversions:
        for ext in targets:
            outdir = tmp / f"lo_{ext}"
            outdir.mkdir(exist_ok=True)
            run("soffice", "--headless", "--norestore", "--convert-to", ext, "--outdir", str(outdir), str(d / source))
            produced = outdir / (Path(source).stem + "." + ext)
            name = f"libreoffice.{ext}" if ext != "pdf" else "libreoffice.pdf"
            shutil.move(produced, d / name)
            record(d, name, "libreoffice", "pdf" if ext == "pdf" else "office", ALL)


def make_mail(d, v, tmp):
    # Addresses are what the e-mail detector finds: the clean set has none,
    # not even in its headers.
    planted = v is VALUES
    sender = "Billing <billing@example.org>" if planted else "Billing team"
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = f"Jane Roe <{v['mail']}>" if planted else "undisclosed-recipients:;"
    msg["Subject"] = "Quarterly customer récord"
    text = "\n".join(lines(v)[:3]) + "\nNon-ASCII body forces an encoding: café.\n"
    msg.set_content(text, charset="utf-8", cte="quoted-printable")
    msg.add_alternative("<p>" + "</p><p>".join(lines(v)[3:4]) + "</p>", subtype="html", charset="utf-8", cte="base64")
    msg.add_attachment(("\n".join(lines(v)[4:]) + "\n").encode(), maintype="application", subtype="octet-stream",
                       filename="account.txt")
    (d / "python-email.eml").write_bytes(msg.as_bytes())
    record(d, "python-email.eml", "python-email", "email", ALL)

    # A message carrying a LibreOffice document as its only content.
    doc = email.message.EmailMessage(policy=email.policy.SMTP)
    doc["From"] = sender
    doc["To"] = "desk@example.org" if planted else "undisclosed-recipients:;"
    doc["Subject"] = "Record attached"
    doc.set_content("The record is attached.\n")
    doc.add_attachment((d / "libreoffice.odt").read_bytes(), maintype="application",
                       subtype="vnd.oasis.opendocument.text", filename="record.odt")
    (d / "python-email_attachment.eml").write_bytes(doc.as_bytes())
    record(d, "python-email_attachment.eml", "python-email", "email", ALL)

    path = tmp / "box.mbox"
    if path.exists():
        path.unlink()
    box = mailbox.mbox(str(path))
    first = email.message.EmailMessage()
    first["From"] = sender
    first["Subject"] = "first"
    first.set_content("\n".join(lines(v)[:3]) + "\n", cte="base64")
    second = email.message.EmailMessage()
    second["From"] = sender
    second["Subject"] = "second"
    second.set_content("\n".join(lines(v)[3:]) + "\nFrom the desk.\n", cte="quoted-printable")
    box.add(first)
    box.add(second)
    box.flush()
    box.close()
    shutil.copy(path, d / "python-mailbox.mbox")
    record(d, "python-mailbox.mbox", "python-email", "email", ALL)


def make_archives(d, v, tmp):
    src = tmp / "arch"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir()
    (src / "record.txt").write_text("\n".join(lines(v)) + "\n")
    shutil.copy(d / "python-docx.docx", src / "record.docx")
    for name, args in [("7z.7z", ["7z", "a", "-bd", "-y"]), ("7z-solid-lzma.7z", ["7z", "a", "-bd", "-y", "-m0=lzma", "-ms=on"]),
                       ("7z-bzip2.7z", ["7z", "a", "-bd", "-y", "-m0=bzip2"]), ("7z.zip", ["7z", "a", "-bd", "-y", "-tzip"])]:
        target = d / name
        if target.exists():
            target.unlink()
        run(*args, str(target), "record.txt", "record.docx", cwd=src)
        record(d, name, "7-zip", "archive", ALL)
    run("tar", "-cf", str(tmp / "record.tar"), "record.txt", cwd=src)
    for tool, ext in [("xz", "xz"), ("bzip2", "bz2"), ("zstd", "zst"), ("gzip", "gz")]:
        with open(d / f"{tool}.tar.{ext}", "wb") as f:
            subprocess.run([tool, "-c", str(tmp / "record.tar")], check=True, stdout=f, stderr=subprocess.DEVNULL)
        record(d, f"{tool}.tar.{ext}", tool, "archive", ALL)
        with open(d / f"{tool}.txt.{ext}", "wb") as f:
            subprocess.run([tool, "-c", str(src / "record.txt")], check=True, stdout=f, stderr=subprocess.DEVNULL)
        record(d, f"{tool}.txt.{ext}", tool, "archive", ALL)
    blob = base64.encodebytes((src / "record.txt").read_bytes()).decode()
    (d / "base64.txt").write_text(blob)
    record(d, "base64.txt", "python-base64", "text", ALL)


def make_images(d, v, tmp):
    text = "\n".join(lines(v)[2:6])
    base = tmp / "text.png"
    run("convert", "-size", "1000x260", "xc:white", "-font", "DejaVu-Sans", "-pointsize", "26", "-fill", "black",
        "-annotate", "+20+50", text, str(base))
    shutil.copy(base, d / "imagemagick.png")
    record(d, "imagemagick.png", "imagemagick", "image", ALL)
    run("convert", str(base), "-rotate", "90", str(d / "imagemagick_sideways.png"))
    record(d, "imagemagick_sideways.png", "imagemagick", "image", ALL)
    # Pixels stored sideways, EXIF orientation 6 (turn 90 clockwise to view),
    # as a phone writes a portrait photo.
    run("convert", str(base), "-rotate", "-90", "-quality", "90", str(d / "imagemagick_exif6.jpg"))
    run("exiftool", "-q", "-n", "-Orientation=6", "-overwrite_original", str(d / "imagemagick_exif6.jpg"))
    record(d, "imagemagick_exif6.jpg", "imagemagick+exiftool", "image", ALL)
    # Turned the other way (text reading upwards), no EXIF tag: tesseract's
    # layout analysis alone reads this one as garbage.
    run("convert", str(base), "-rotate", "-90", str(d / "imagemagick_sideways_ccw.png"))
    record(d, "imagemagick_sideways_ccw.png", "imagemagick", "image", ALL)
    # A scan: the page is one image, no text layer (pdftoppm + OCR path).
    # ImageMagick's Debian policy forbids writing PDF: PyMuPDF places it.
    import fitz

    scan = fitz.open()
    scan.new_page(width=612, height=792).insert_image(fitz.Rect(36, 36, 576, 176), filename=str(base))
    scan.save(d / "pymupdf_scan.pdf", deflate=True)
    record(d, "pymupdf_scan.pdf", "pymupdf", "pdf", ALL)
    # A small blank PNG whose only data is a text chunk.
    run("convert", "-size", "40x40", "xc:white", "-set", "comment", f"Card {v['card']} IBAN {v['iban']}",
        str(d / "imagemagick_text_chunk.png"))
    record(d, "imagemagick_text_chunk.png", "imagemagick", "image", ["credit_card", "iban"])


def reference_texts():
    """Text an ordinary extractor reads from each planted and clean PDF and
    Office file, for the differential test."""
    import docx
    import fitz
    import openpyxl
    import pptx

    ref = HERE / "reference"
    shutil.rmtree(ref, ignore_errors=True)
    for set_name in ["planted", "clean"]:
        (ref / set_name).mkdir(parents=True)
        for f in sorted((HERE / set_name).iterdir()):
            text = None
            if f.suffix == ".pdf":
                with fitz.open(f) as doc:
                    if doc.needs_pass:
                        continue
                    text = "\n".join(p.get_text() for p in doc)
                    text += "\n" + "\n".join(str(doc.metadata.get(k) or "") for k in ["title", "author", "subject", "keywords"])
            elif f.suffix == ".docx":
                text = "\n".join(p.text for p in docx.Document(f).paragraphs)
            elif f.suffix == ".xlsx":
                wb = openpyxl.load_workbook(f)
                text = "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
                text += "\n" + "\n".join(c.comment.text for ws in wb for row in ws.iter_rows() for c in row if c.comment)
            elif f.suffix == ".pptx":
                text = "\n".join(s.text_frame.text for sl in pptx.Presentation(f).slides for s in sl.shapes if s.has_text_frame)
            elif f.suffix in [".odt", ".doc", ".rtf"]:
                with tempfile.TemporaryDirectory() as t:
                    run("soffice", "--headless", "--norestore", "--convert-to", "txt:Text", "--outdir", t, str(f))
                    text = (Path(t) / (f.stem + ".txt")).read_text(errors="replace")
            elif f.suffix in [".ods", ".xls"]:
                with tempfile.TemporaryDirectory() as t:
                    run("soffice", "--headless", "--norestore", "--convert-to", "csv", "--outdir", t, str(f))
                    text = (Path(t) / (f.stem + ".csv")).read_text(errors="replace")
            if text is not None:
                (ref / set_name / (f.name + ".txt")).write_text(text)


def main():
    """`generate.py` rebuilds everything; `generate.py images` (or pdf,
    office, mail, archives) rebuilds only those files, keeping the rest."""
    makers = {"pdf": make_pdfs, "office": make_office, "mail": make_mail, "archives": make_archives,
              "images": make_images}
    only = sys.argv[1:]
    for name in only:
        if name not in makers:
            sys.exit(f"unknown section {name}: one of {', '.join(makers)}")
    previous = {}
    if only and (HERE / "manifest.json").exists():
        previous = json.loads((HERE / "manifest.json").read_text())["files"]
    for set_name, v in [("planted", VALUES), ("clean", CLEAN)]:
        d = HERE / set_name
        if not only:
            shutil.rmtree(d, ignore_errors=True)
        d.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            for name, make in makers.items():
                if not only or name in only:
                    make(d, v, tmp)
    if not only or "pdf" in only:
        locked = HERE / "password"
        shutil.rmtree(locked, ignore_errors=True)
        locked.mkdir()
        import fitz

        doc = fitz.open()
        doc.new_page().insert_text((72, 72), "\n".join(lines(VALUES)))
        doc.save(locked / "pymupdf_user_password.pdf", encryption=fitz.PDF_ENCRYPT_AES_256, owner_pw="owner-secret",
                 user_pw="user-secret")
    if not only or "pdf" in only or "office" in only:
        reference_texts()
    files = {**previous, **MANIFEST}
    producers = versions()
    producers["exiftool"] = "exiftool " + out(["exiftool", "-ver"])
    out_manifest = {
        "producers": producers,
        "files": {k: files[k] for k in sorted(files)},
    }
    (HERE / "manifest.json").write_text(json.dumps(out_manifest, indent=1, ensure_ascii=False) + "\n")
    total = sum(f.stat().st_size for s in ["planted", "clean"] for f in (HERE / s).iterdir())
    print(f"{len(files)} files per set, {total / 1e6:.1f} MB in both sets")


if __name__ == "__main__":
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    main()
