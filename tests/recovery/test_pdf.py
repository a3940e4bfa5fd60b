"""The visit summary PDF opens: its first page is rendered with pdftoppm and inspected."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

TODAY = dt.date.today()
BRAND_BLUE = (11, 92, 138)


def _history(post_entry):
    start = TODAY - dt.timedelta(days=42)
    for i in range(0, 43, 2):
        post_entry(start + dt.timedelta(days=i), 7 if i < 14 else 3, 4, medications=["naproxen", "gabapentin"],
                   treatments_started=["physical_therapy"] if i == 14 else [], note="Zoë's dose – halved")


def test_summary_pdf_renders_a_first_page_with_the_chart(client, post_entry, patient, tmp_path):
    _history(post_entry)
    client.post("/api/v1/questionnaires", headers=patient[1], json={"instrument": "odi", "answers": [2] * 10})
    response = client.get("/api/v1/recovery/summary.pdf", headers=patient[1])
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pdf_path = tmp_path / "summary.pdf"
    pdf_path.write_bytes(response.content)

    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf_path), str(tmp_path / "page")],
                   check=True, timeout=60)
    png = next(tmp_path.glob("page*.png"))
    image = Image.open(png).convert("RGB")
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.02, "an A4 page"
    raw = image.tobytes()
    pixels = [tuple(raw[i:i + 3]) for i in range(0, len(raw), 3)]
    inked = sum(1 for p in pixels if sum(p) < 600) / len(pixels)
    assert 0.01 < inked < 0.5, "text and a chart, not a blank or black page"
    blue = sum(1 for p in pixels if all(abs(a - b) < 40 for a, b in zip(p, BRAND_BLUE, strict=True)))
    assert blue > 50, "the trend line"
    if shot_dir := os.environ.get("FUSIONCARE_SCREENSHOT_DIR"):
        Path(shot_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(shot_dir) / "summary-pdf-page1.png")

    info = subprocess.run(["pdfinfo", str(pdf_path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), "a routine record fits one page, every chart included"
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], check=True, capture_output=True, text=True).stdout
    assert "Recovery summary for the doctor" in text
    assert "Leg pain has improved meaningfully" in text
    assert "naproxen, gabapentin" in text
    assert "ODI" in text and "40% disability (moderate)" in text


def test_summary_pdf_needs_a_signed_in_patient(client):
    assert client.get("/api/v1/recovery/summary.pdf").status_code == 401


@pytest.fixture(autouse=True)
def _poppler():
    if not shutil.which("pdftoppm"):
        pytest.fail("pdftoppm is missing: run `make test`, which installs poppler-utils")


def test_the_pdf_says_what_the_html_page_says_for_the_doctor(client, signed_in_client, post_entry, patient, tmp_path):
    """Patient, operation, medications, every measure with its chart, the latest assessment with its warning signs,
    in the third person; the PDF carries the same facts as the page."""
    _history(post_entry)
    post_entry(TODAY, 6, 5, symptoms=["saddle_numbness"])
    for instrument, answers in (("odi", [2] * 10), ("peg", [5, 4, 3])):
        client.post("/api/v1/questionnaires", headers=patient[1], json={"instrument": instrument, "answers": answers})
    client.put("/api/v1/recovery/profile", headers=patient[1], json={
        "full_name": "Ana Lima", "date_of_birth": "1961-05-02",
        "operation_date": (TODAY - dt.timedelta(days=200)).isoformat(), "fusion_levels": "L4-L5",
        "fusion_approach": "posterior", "surgeon": "Dr Rao, Valley Spine"})
    pdf_path = tmp_path / "summary.pdf"
    pdf_path.write_bytes(client.get("/api/v1/recovery/summary.pdf", headers=patient[1]).content)
    if shot_dir := os.environ.get("FUSIONCARE_SCREENSHOT_DIR"):
        Path(shot_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(pdf_path, Path(shot_dir) / "summary-full.pdf")
    text = " ".join(subprocess.run(["pdftotext", str(pdf_path), "-"], check=True, capture_output=True,
                                   text=True).stdout.split())
    overlapping = _overlapping_words(pdf_path)
    assert overlapping == [], f"words printed over each other: {overlapping[:5]}"
    words = re.findall(r">([^<]*)</word>", subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], check=True,
                                                          capture_output=True, text=True).stdout)
    assert "symptoms" in words and "None" in words, "the label 'Long-standing symptoms' ran into its value"
    web, _ = signed_in_client
    html = web.get("/recovery/summary", headers={"Accept": "text/html"}).text
    facts = ["Ana Lima", "2 May 1961", "L4-L5", "Posterior (from the back)", "Dr Rao, Valley Spine",
             "naproxen, gabapentin", "Emergency",
             "Warning signs reported, as worded on the patient's form: “Numbness or tingling",
             "Signs the patient was told to seek help for at once", "Leg pain", "Back pain",
             "Disability (Oswestry Disability Index)", "Pain and its interference (PEG)",
             "Physical therapy: leg pain improved meaningfully"]
    for fact in facts:
        assert fact in text, f"PDF lacks {fact!r}"
        assert fact in html, f"page lacks {fact!r}"
    assert html.count("<svg") >= 4, "a chart for each of leg pain, back pain, ODI and PEG"
    # Only the advice the patient was given is quoted in their own (second-person) words.
    ours = text.split("Signs the patient was told")[0] + text.split("Measures", 1)[1]
    for second_person in ("Your ", "your leg", "your back", "you "):
        assert second_person not in ours


def _overlapping_words(pdf_path: Path) -> list[tuple[str, str]]:
    """Pairs of words on the same line whose boxes overlap (pdftotext -bbox): a label running into its value
    ("Long-standing symptomsNone reported") shows up here, where the extracted text alone can hide it."""
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf_path), "-"], check=True, capture_output=True,
                           text=True).stdout
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
    words = [(float(m[1]), float(m[2]), float(m[3]), float(m[4]), m[5], page)
             for page, html in enumerate(boxes.split("<page")[1:]) for m in word.finditer(html)]
    found = []
    for a in words:
        for b in words:
            same_line = a[5] == b[5] and abs(a[1] - b[1]) < 1.0
            if same_line and a is not b and a[0] < b[0] < a[2] - 0.5:
                found.append((a[4], b[4]))
    return found
