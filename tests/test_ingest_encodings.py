"""Text-file encodings: UTF-8/UTF-16 with BOM as before; legacy encodings are detected
(charset-normalizer) from realistic paragraphs, and a guessed encoding is named in the report."""

import random

import pytest

from builder.config import IngestConfig
from builder.errors import CorruptDocument
from builder.ingest import extract, ingest_bytes
from builder.project import Project

POLISH = ("Zażółć gęślą jaźń. Pracownicy działu księgowości otrzymują wynagrodzenie do dziesiątego dnia "
          "każdego miesiąca. Urlop wypoczynkowy należy zgłosić przełożonemu co najmniej dwa tygodnie wcześniej, "
          "a w przypadku choroby trzeba dostarczyć zwolnienie lekarskie w ciągu siedmiu dni.\n\n"
          "Każdy pracownik ma prawo do szkolenia z zakresu bezpieczeństwa i higieny pracy, które odbywa się "
          "w siedzibie firmy przy ulicy Świętokrzyskiej. Pytania dotyczące świadczeń socjalnych kieruje się "
          "do działu kadr, który jest czynny od poniedziałku do piątku.")
JAPANESE = ("本規程は、当社の従業員の勤務時間、休日および休暇について定めるものです。始業時刻は午前九時、"
            "終業時刻は午後六時とし、正午から午後一時までを休憩時間とします。\n\n"
            "年次有給休暇を取得する場合は、原則として二週間前までに所属長へ申請してください。"
            "病気やけがで欠勤する場合は、当日の始業時刻までに電話で連絡し、三日以上続くときは医師の診断書を提出してください。")
CHINESE = ("本手册适用于公司全体员工，规定了工作时间、休假制度和报销流程。每周工作五天，每天工作八小时，"
           "午休时间为十二点至一点。\n\n员工申请年假时，应当至少提前两周向直属主管提交书面申请，并在人事系统中登记。"
           "因病请假超过三天的，需要提供医院出具的证明。出差产生的交通费和住宿费，应当在返回后十个工作日内凭发票申请报销。")
FRENCH = ("Le café est servi de huit heures à dix heures dans la salle située au rez-de-chaussée. Les employés à "
          "temps partiel reçoivent leur bulletin de salaire par courrier électronique.\n\nPour toute réclamation "
          "concernant les congés payés, adressez-vous au service des ressources humaines, qui répondra sous "
          "quarante-huit heures.")
ENGLISH_WORD = ("The depot opens at 07:00 on weekdays – and at 09:00 on Saturdays. “Late returns” are charged at "
                "€4.00 per 15 minutes; the member’s card is charged automatically. Riders who can’t find a free "
                "dock should press the grey button — they get 15 extra minutes.")


@pytest.mark.parametrize("text,encoding,guesses", [
    (POLISH, "cp1250", {"cp1250"}),
    (JAPANESE, "shift_jis", {"shift_jis", "cp932"}),
    (CHINESE, "gb18030", {"gb18030"}),
    (FRENCH, "cp1252", {"cp1252"}),
    (ENGLISH_WORD, "cp1252", {"cp1252"}),
])
def test_legacy_encodings_are_detected_and_the_guess_is_reported(tmp_path, text, encoding, guesses):
    project = Project.create(tmp_path / "p")
    row = ingest_bytes(project, "policy.txt", text.encode(encoding), IngestConfig())
    assert row["status"] == "ok"
    assert (project.extracted_dir / f"{row['source_id']}.md").read_text(encoding="utf-8") == text
    assert len(row["warnings"]) == 1 and "the encoding was guessed as" in row["warnings"][0]
    assert row["warnings"][0].split("guessed as ")[1].split(";")[0] in guesses


@pytest.mark.parametrize("text", [POLISH, JAPANESE, ENGLISH_WORD])
def test_utf16_and_utf8_need_no_guess(text):
    for data in (text.encode("utf-16"), text.encode("utf-8"), text.encode("utf-8-sig")):
        doc = extract("a.md", data, IngestConfig())
        assert doc.text == text and doc.warnings == []


def test_html_in_a_legacy_encoding_is_detected():
    html = f"<html><body><h1>Regulamin</h1><p>{POLISH}</p></body></html>".encode("cp1250")
    doc = extract("regulamin.html", html, IngestConfig())
    assert doc.text.startswith("# Regulamin\n\nZażółć gęślą jaźń.") and "guessed as cp1250" in doc.warnings[0]


def test_binary_file_renamed_txt_is_refused():
    picture = b"\x89PNG\r\n\x1a\n" + random.Random(0).randbytes(4096)
    with pytest.raises(CorruptDocument, match="looks binary"):
        extract("photo.txt", picture, IngestConfig())
