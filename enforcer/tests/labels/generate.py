#!/usr/bin/env python3
"""Regenerates the labelled and unlabelled test files of this directory.

Every file is written by a real producer; see README.md for which and why.
Needs (on the machine that regenerates, not at test time):
  pip: XlsxWriter openpyxl python-docx pypdf pikepdf reportlab odfpy
  apt: pandoc libreoffice-writer (soffice), zip
Run from anywhere: python3 enforcer/tests/labels/generate.py
"""

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))

# The metadata of XlsxWriter's own example, examples/sensitivity_label.py
# (jmcnamara/XlsxWriter), "extracted from a company specific file".
GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
SITE = "cb46c030-1825-4e81-a295-151c039dbf02"
ACTION = "88124cf5-1340-457d-90e1-0000a9427c99"
# The label of the Word file in docx4j issue #594 (plutext/docx4j), "Public".
GUID_PUBLIC = "762f7d00-dfe4-4a8e-8651-3fd595918927"


def msip(guid, name, enabled="true", method="Privileged"):
    """The properties Office writes for one label, in its order."""
    p = f"MSIP_Label_{guid}_"
    return [
        (p + "Enabled", enabled),
        (p + "SetDate", "2024-01-01T12:00:00Z"),
        (p + "Method", method),
        (p + "Name", name),
        (p + "SiteId", SITE),
        (p + "ActionId", ACTION),
        (p + "ContentBits", "2"),
    ]


def out(name):
    return os.path.join(HERE, name)


def xlsxwriter_files():
    import xlsxwriter

    wb = xlsxwriter.Workbook(out("xlsxwriter_msip_confidential.xlsx"))
    ws = wb.add_worksheet()
    ws.write("A1", "Quarterly figures")
    for key, value in msip(GUID, "Confidential"):
        wb.set_custom_property(key, value, "text")
    wb.close()

    wb = xlsxwriter.Workbook(out("xlsxwriter_msip_disabled.xlsx"))
    ws = wb.add_worksheet()
    ws.write("A1", "Quarterly figures")
    for key, value in msip(GUID, "Confidential", enabled="false"):
        wb.set_custom_property(key, value, "text")
    wb.close()

    wb = xlsxwriter.Workbook(out("xlsxwriter_header_restricted.xlsx"))
    ws = wb.add_worksheet()
    ws.write("A1", "Payroll")
    ws.set_header('&L&"Arial,Bold"&8ACME Corp&CRESTRICTED&RPage &P of &N')
    ws.set_footer("&CPrinted &D")
    wb.close()

    wb = xlsxwriter.Workbook(out("xlsxwriter_header_company.xlsx"))
    ws = wb.add_worksheet()
    ws.write("A1", "This sheet is not confidential.")
    ws.set_header("&LACME Corp&RPage &P")
    wb.close()


def openpyxl_files():
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    wb = Workbook()
    wb.active["A1"] = "Roadmap"
    for key, value in msip(GUID, "Highly Confidential", method="Standard"):
        wb.custom_doc_props.append(StringProperty(name=key, value=value))
    wb.save(out("openpyxl_msip_highly_confidential.xlsx"))


def pandoc_files(tmp):
    md = os.path.join(tmp, "labelled.md")
    with open(md, "w") as f:
        f.write("---\ntitle: Supplier contract\n")
        for key, value in msip(GUID_PUBLIC, "Public", method="Standard"):
            f.write(f"{key}: '{value}'\n")
        f.write("---\n\nThe terms below are not confidential.\n")
    subprocess.run(["pandoc", md, "-o", out("pandoc_msip_public.docx")], check=True)
    plain = os.path.join(tmp, "plain.md")
    with open(plain, "w") as f:
        f.write("---\ntitle: Release notes\n---\n\nThis is not confidential.\n\nConfidential information is handled by the legal team.\n")
    subprocess.run(["pandoc", plain, "-o", out("pandoc_unlabelled.docx")], check=True)


def python_docx_files():
    import docx

    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "CONFIDENTIAL"
    d.sections[0].footer.paragraphs[0].text = "ACME Corp\tPage 1"
    d.add_paragraph("Merger plan for the next quarter.")
    d.save(out("python_docx_header_confidential.docx"))

    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "ACME Corporation"
    d.add_paragraph("This document is not confidential.")
    d.add_paragraph("Confidential information must not be shared outside the company.")
    d.save(out("python_docx_header_company.docx"))


def libreoffice_files(tmp):
    from odf.opendocument import OpenDocumentText
    from odf.style import Footer, Header, MasterPage, PageLayout
    from odf.text import P
    from odf.meta import UserDefined

    doc = OpenDocumentText()
    layout = PageLayout(name="pm1")
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    header = Header()
    header.addElement(P(text="INTERNAL USE ONLY"))
    master.addElement(header)
    footer = Footer()
    footer.addElement(P(text="ACME Corp"))
    master.addElement(footer)
    doc.masterstyles.addElement(master)
    for key, value in msip(GUID, "Internal", method="Standard"):
        doc.meta.addElement(UserDefined(name=key, valuetype="string", text=value))
    doc.text.addElement(P(text="Staff handbook, chapter 3."))
    odt = out("odfpy_internal.odt")
    doc.save(odt)
    for fmt in ["docx", "pdf"]:
        subprocess.run(
            ["soffice", "--headless", "--convert-to", fmt, "--outdir", tmp, odt],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    shutil.copy(os.path.join(tmp, "odfpy_internal.docx"), out("libreoffice_internal.docx"))
    shutil.copy(os.path.join(tmp, "odfpy_internal.pdf"), out("libreoffice_internal.pdf"))


def pdf_files(tmp):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas
    import pikepdf
    from pypdf import PdfReader, PdfWriter

    # reportlab: a marking on the top of every page, body text in between.
    path = out("reportlab_strictly_confidential.pdf")
    c = canvas.Canvas(path, pagesize=A4)
    for page in range(3):
        c.drawString(250, 810, "STRICTLY CONFIDENTIAL")
        c.drawString(72, 700, f"Board minutes, page {page + 1}.")
        c.drawString(72, 680, "Nothing here is secret, the minutes say.")
        c.drawString(280, 30, f"{page + 1}")
        c.showPage()
    c.save()

    # reportlab: "confidential" only inside sentences.
    path = out("reportlab_unlabelled.pdf")
    c = canvas.Canvas(path, pagesize=A4)
    c.drawString(72, 800, "ACME Corp quarterly newsletter")
    c.drawString(72, 700, "This newsletter is not confidential; share it freely.")
    c.drawString(72, 680, "Confidential matters are discussed elsewhere.")
    c.showPage()
    c.save()

    # pypdf: the Info dictionary keys Office's "Save as PDF" writes.
    base = os.path.join(tmp, "plain.pdf")
    c = canvas.Canvas(base, pagesize=A4)
    c.drawString(72, 700, "Pricing proposal")
    c.showPage()
    c.save()
    w = PdfWriter()
    w.append(PdfReader(base))
    w.add_metadata({"/" + k: v for k, v in msip(GUID, "Confidential")})
    w.write(out("pypdf_info_confidential.pdf"))

    # pikepdf: the same keys in XMP, in the pdfx namespace.
    with pikepdf.open(base) as pdf:
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.register_xml_namespace("http://ns.adobe.com/pdfx/1.3/", "pdfx")
            for k, v in msip(GUID, "Secret"):
                meta["pdfx:" + k] = v
        pdf.save(out("pikepdf_xmp_secret.pdf"))

    # pikepdf: a disabled label in the Info dictionary.
    with pikepdf.open(base) as pdf:
        for k, v in msip(GUID, "Confidential", enabled="false"):
            pdf.docinfo["/" + k] = v
        pdf.save(out("pikepdf_info_disabled.pdf"))


def nested_files():
    # A labelled workbook inside a zip, and attached to an e-mail.
    labelled = out("xlsxwriter_msip_confidential.xlsx")
    with zipfile.ZipFile(out("nested_labelled.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.write(labelled, "reports/q3.xlsx")
        z.writestr("readme.txt", "Figures attached.\n")
    msg = EmailMessage()
    msg["From"] = "Jane Roe <jane.roe@example.com>"
    msg["To"] = "partner@example.org"
    msg["Subject"] = "Figures"
    msg.set_content("Please find the figures attached.\n")
    with open(labelled, "rb") as f:
        msg.add_attachment(
            f.read(),
            maintype="application",
            subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename="q3.xlsx",
        )
    with open(out("nested_attachment.eml"), "wb") as f:
        f.write(bytes(msg))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        xlsxwriter_files()
        openpyxl_files()
        pandoc_files(tmp)
        python_docx_files()
        libreoffice_files(tmp)
        pdf_files(tmp)
        nested_files()


if __name__ == "__main__":
    main()
