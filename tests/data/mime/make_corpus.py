#!/usr/bin/env python3
"""Write the MIME corpus: NAME.eml (a message as a server sends it) and
NAME.expected (its text view for a person, byte for byte), which
tests/unit/test_mime.c compares with ims_mime_view().

The .expected texts below are the specification: written by hand, from
what a person should read, not from imapsh's output.  The messages are
built byte by byte with Python's own codecs (iso2022_jp, cp932, euc_jp,
...), so the decoder under test and the encoder here share nothing.

Run from anywhere:  python3 tests/data/mime/make_corpus.py
"""
import base64
import os
import quopri
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
CRLF = b"\r\n"


def lines(*ls):
    """Join str/bytes lines with CRLF (str must be ASCII)."""
    out = []
    for x in ls:
        out.append(x.encode("ascii") if isinstance(x, str) else x)
    return CRLF.join(out) + CRLF


def b64(data, width=76):
    s = base64.b64encode(data).decode("ascii")
    return CRLF.join(s[i:i + width].encode() for i in range(0, len(s), width)) if s else b""


def ew_b(text, charset, codec=None):
    return "=?%s?B?%s?=" % (charset, base64.b64encode(
        text if isinstance(text, bytes) else text.encode(codec or charset)).decode())


def size_str(n, approx=False):
    """The size format of the attachment list (independent of the C)."""
    p = "~" if approx else ""
    if n < 1024:
        return "%s%d B" % (p, n)
    for i, unit in enumerate(["KiB", "MiB", "GiB"]):
        div = 1024 ** (i + 1)
        if n // div < 1024 or unit == "GiB":
            t = (n * 10 + div // 2) // div
            return "%s%d.%d %s" % (p, t // 10, t % 10, unit)


# ---- ISO-2022-JP, written by hand so that it can carry what Python's
# codec refuses: NEC row 13 (①, ㈱; what Outlook's CP50221 sends) and
# half-width katakana in ESC ( I.

NEC13 = {"①": b"\x2d\x21", "②": b"\x2d\x22", "③": b"\x2d\x23", "㈱": b"\x2d\x6a"}


def jis(text):
    out = bytearray()
    mode = "ascii"
    for ch in text:
        if ch == "\n":
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out += b"\r\n"
            continue
        if ord(ch) < 0x80:
            want, b = "ascii", ch.encode()
        elif ch in NEC13:
            want, b = "jis", NEC13[ch]
        elif 0xFF61 <= ord(ch) <= 0xFF9F:
            want, b = "kana", bytes([ch.encode("cp932")[0] - 0x80])
        else:
            e = ch.encode("iso2022_jp")
            assert e.startswith(b"\x1b$B") and len(e) == 8, ch
            want, b = "jis", e[3:5]
        if want != mode:
            out += {"ascii": b"\x1b(B", "jis": b"\x1b$B", "kana": b"\x1b(I"}[want]
            mode = want
        out += b
    if mode != "ascii":
        out += b"\x1b(B"
    return bytes(out)


def crlf(text):
    return text.replace("\n", "\r\n")


CORPUS = {}


def add(name, eml, expected):
    CORPUS[name] = (eml, expected)


# 1. A Japanese newsletter in ISO-2022-JP: B-encoded From and Subject (the
# subject folded over two words, each self-contained), multipart/
# alternative with a 7bit text part and a base64 HTML part.
jp_plain = ("山田商店からのお知らせです。\n"
            "春のセールを開催します。\n"
            "期間：３月３日〜３月１０日\n"
            "①全品２０％オフ\n"
            "②送料無料（㈱山田配送）\n"
            "ｾｰﾙ会場はこちら：https://shop.example.jp/sale\n"
            "\n"
            "※このメールは送信専用です。\n")
jp_html = ("<html><head><meta charset=\"iso-2022-jp\"><title>春のセール</title></head>"
           "<body><p>山田商店からのお知らせです。</p></body></html>")
add("jp-newsletter-iso2022jp", lines(
    "Return-Path: <news@shop.example.jp>",
    "Received: from mx.shop.example.jp (mx.shop.example.jp [192.0.2.10])",
    "\tby mail.example.jp with ESMTPS id 4Qx; Tue, 3 Mar 2026 09:15:02 +0900",
    "Date: Tue, 3 Mar 2026 09:15:00 +0900",
    "From: " + ew_b(jis("山田商店"), "ISO-2022-JP") + " <news@shop.example.jp>",
    "To: hanako@example.jp",
    "Subject: " + ew_b(jis("【春のセール】全品"), "ISO-2022-JP"),
    " " + ew_b(jis("２０％オフ①"), "ISO-2022-JP"),
    "Message-ID: <20260303091500.12345@shop.example.jp>",
    "MIME-Version: 1.0",
    "Content-Type: multipart/alternative;",
    "\tboundary=\"----=_Part_0_1234.5678\"",
    "",
    "This is a multi-part message in MIME format.",
    "",
    "------=_Part_0_1234.5678",
    "Content-Type: text/plain; charset=ISO-2022-JP",
    "Content-Transfer-Encoding: 7bit",
    "",
    jis(jp_plain.rstrip("\n")),
    "------=_Part_0_1234.5678",
    "Content-Type: text/html; charset=\"ISO-2022-JP\"",
    "Content-Transfer-Encoding: base64",
    "",
    b64(jis(jp_html)),
    "------=_Part_0_1234.5678--",
), "Date: Tue, 3 Mar 2026 09:15:00 +0900\n"
   "From: 山田商店 <news@shop.example.jp>\n"
   "To: hanako@example.jp\n"
   "Subject: 【春のセール】全品２０％オフ①\n"
   "\n" + jp_plain)

# 2. Shift_JIS mobile mail: CP932 characters (①, ㈱, 髙, ～) and half-width
# katakana, 8bit body, B-encoded headers.
sj_body = ("お疲れ様です。鈴木です。\n"
           "明日の会議は①１０時から②１４時からのどちらかでお願いします。\n"
           "場所は㈱ｻﾝﾌﾟﾙの３階会議室です。\n"
           "髙橋さんにも伝えてください～\n"
           "\n"
           "ｽｽﾞｷ\n")
add("sjis-mobile", lines(
    "Date: Wed, 4 Mar 2026 18:30:12 +0900 (JST)",
    "From: " + ew_b("鈴木一郎", "Shift_JIS", "cp932") + " <ichiro.suzuki@docomo.example.ne.jp>",
    "To: hanako@example.jp",
    "Subject: " + ew_b("①明日の会議の件（㈱ｻﾝﾌﾟﾙ）", "Shift_JIS", "cp932"),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=\"Shift_JIS\"",
    "Content-Transfer-Encoding: 8bit",
    "X-Mailer: Example Mobile Mail 1.0",
    "",
    crlf(sj_body).encode("cp932").rstrip(b"\r\n"),
), "Date: Wed, 4 Mar 2026 18:30:12 +0900 (JST)\n"
   "From: 鈴木一郎 <ichiro.suzuki@docomo.example.ne.jp>\n"
   "To: hanako@example.jp\n"
   "Subject: ①明日の会議の件（㈱ｻﾝﾌﾟﾙ）\n"
   "\n" + sj_body)

# 3. EUC-JP from an old Unix mailer: the display name raw 8-bit EUC-JP
# (kanji only: guessed EUC-JP, not the half-width katakana Shift_JIS would
# read), Q-encoded subject, body with NEC row 13 (EUC-JP-MS: 0xADA1).
euc_body = ("EUC-JPで書かれたメールです。\n"
            "古いUNIX系のメーラーから送られてきました。\n"
            "丸数字の①も入っています。\n")
euc_bytes = crlf(euc_body).encode("euc_jp", errors="strict") if "①" not in euc_body else \
    crlf(euc_body.replace("①", "\0")).encode("euc_jp").replace(b"\0", b"\xad\xa1")
add("eucjp", lines(
    "Date: Thu, 5 Mar 2026 07:00:00 +0900",
    b"From: \xbb\xb3\xcb\xdc\xc2\xc0\xcf\xba <yamamoto@unix.example.jp>",
    "To: hanako@example.jp",
    "Subject: =?EUC-JP?Q?" + "".join("=%02X" % c for c in "古いメーラー".encode("euc_jp")) + "?=",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=EUC-JP",
    "Content-Transfer-Encoding: 8bit",
    "",
    euc_bytes.rstrip(b"\r\n"),
), "Date: Thu, 5 Mar 2026 07:00:00 +0900\n"
   "From: 山本太郎 <yamamoto@unix.example.jp>\n"
   "To: hanako@example.jp\n"
   "Subject: 古いメーラー\n"
   "\n" + euc_body)
assert "山本太郎".encode("euc_jp") == b"\xbb\xb3\xcb\xdc\xc2\xc0\xcf\xba"

# 4. multipart/alternative in UTF-8, quoted-printable: the plain part wins.
alt_plain = ("Bonjour Hanako,\n"
             "\n"
             "Voici le programme de la réunion de vendredi : café à 9 h,\n"
             "présentation à 10 h. À bientôt !\n"
             "\n"
             "-- \n"
             "Élodie\n")
add("alternative", lines(
    "Date: Fri, 6 Mar 2026 16:45:00 +0100",
    "From: =?UTF-8?Q?=C3=89lodie_Durand?= <elodie@example.fr>",
    "To: Hanako <hanako@example.jp>",
    "Cc: team@example.fr",
    "Subject: =?utf-8?q?R=C3=A9union_de_vendredi?=",
    "MIME-Version: 1.0",
    "Content-Type: multipart/alternative; boundary=\"b1_alt\"",
    "",
    "--b1_alt",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    quopri.encodestring(crlf(alt_plain).encode("utf-8")).rstrip(b"\r\n"),
    "--b1_alt",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    quopri.encodestring(b"<p>Bonjour Hanako,</p><p>Voici le <b>programme</b>.</p>"),
    "--b1_alt--",
    "",
), "Date: Fri, 6 Mar 2026 16:45:00 +0100\n"
   "From: Élodie Durand <elodie@example.fr>\n"
   "To: Hanako <hanako@example.jp>\n"
   "Cc: team@example.fr\n"
   "Subject: Réunion de vendredi\n"
   "\n" + alt_plain)

# 5. Nested multipart/mixed: alternative(plain, related(html, image)), a
# PDF with an RFC 2231 Japanese name, a forwarded message/rfc822, a text
# attachment, and an inline list footer (a second text part).
pdf = b"%PDF-1.4\n" + bytes(range(256)) * 6 + b"\n%%EOF\n"
png = b"\x89PNG\r\n\x1a\n" + b"\0" * 300
fwd = lines(
    "Date: Mon, 2 Mar 2026 12:00:00 +0900",
    "From: Taro <taro@example.jp>",
    "To: hanako@example.jp",
    "Subject: =?UTF-8?B?" + base64.b64encode("見積もり".encode()).decode() + "?=",
    "Content-Type: text/plain; charset=UTF-8",
    "",
    "見積もりを添付します。".encode(),
)
notes = crlf("Line one\nLine two\n").encode()
nested_plain = ("Hanako,\n"
                "\n"
                "Please find the invoice attached, and Taro's message below.\n")
footer = ("_______________________________________________\n"
          "team mailing list -- team@lists.example.jp\n")
add("nested-mixed", lines(
    "Date: Sat, 7 Mar 2026 10:00:00 +0900",
    "From: Accounting <accounting@example.jp>",
    "To: hanako@example.jp",
    "Subject: Invoice for March",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=\"=-outer-=\"",
    "",
    "--=-outer-=",
    "Content-Type: multipart/alternative; boundary=\"=-alt-=\"",
    "",
    "--=-alt-=",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    crlf(nested_plain).encode().rstrip(b"\r\n"),
    "--=-alt-=",
    "Content-Type: multipart/related; boundary=\"=-rel-=\"; type=\"text/html\"",
    "",
    "--=-rel-=",
    "Content-Type: text/html; charset=us-ascii",
    "",
    "<p>Hanako,</p><p>Please find the invoice attached.</p><img src=\"cid:logo@x\">",
    "--=-rel-=",
    "Content-Type: image/png; name=\"logo.png\"",
    "Content-Transfer-Encoding: base64",
    "Content-ID: <logo@x>",
    "Content-Disposition: inline; filename=\"logo.png\"",
    "",
    b64(png),
    "--=-rel-=--",
    "",
    "--=-alt-=--",
    "",
    "--=-outer-=",
    "Content-Type: application/pdf;",
    " name=\"=?UTF-8?B?" + base64.b64encode("請求書.pdf".encode()).decode() + "?=\"",
    "Content-Transfer-Encoding: base64",
    "Content-Disposition: attachment;",
    " filename*=UTF-8''" + urllib.parse.quote("請求書.pdf".encode()),
    "",
    b64(pdf),
    "--=-outer-=",
    "Content-Type: message/rfc822",
    "Content-Disposition: inline",
    "",
    fwd.rstrip(b"\r\n"),
    "--=-outer-=",
    "Content-Type: text/plain; charset=utf-8; name=\"notes.txt\"",
    "Content-Disposition: attachment; filename=\"notes.txt\"",
    "",
    notes.rstrip(b"\r\n"),
    "--=-outer-=",
    "Content-Type: text/plain; charset=\"us-ascii\"",
    "Content-Transfer-Encoding: 7bit",
    "Content-Disposition: inline",
    "",
    crlf(footer).encode().rstrip(b"\r\n"),
    "--=-outer-=--",
    "",
), "Date: Sat, 7 Mar 2026 10:00:00 +0900\n"
   "From: Accounting <accounting@example.jp>\n"
   "To: hanako@example.jp\n"
   "Subject: Invoice for March\n"
   "\n" + nested_plain + "\n" + footer + "\n"
   "Attachments:\n"
   "[2] 請求書.pdf (application/pdf, " + size_str(len(pdf)) + ")\n"
   "[3] (message/rfc822, " + size_str(len(fwd.rstrip(b"\r\n"))) + ")\n"
   "[4] notes.txt (text/plain, " + size_str(len(notes.rstrip(b"\r\n"))) + ")\n")

# 6. RFC 2231 names: UTF-8 with %XX, continuations mixing encoded and
# plain sections, out of order, ISO-2022-JP and Shift_JIS charsets with a
# language, RFC 2047 inside a quoted name= (common in the wild), raw UTF-8,
# and an RFC 2231 value winning over a plain one.
def q(b):
    return urllib.parse.quote(b, safe="")


att = b"x" * 10
names = [
    ("Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt",
     "€ rates.txt"),
    ("Content-Disposition: attachment;\r\n filename*0*=UTF-8''" + q("日本語の".encode()) +
     ";\r\n filename*1*=" + q("長い名前".encode()) + ";\r\n filename*2=\".pdf\"",
     "日本語の長い名前.pdf"),
    ("Content-Disposition: attachment; filename*=iso-2022-jp'ja'" + q(jis("資料")) + ".xls",
     "資料.xls"),
    ("Content-Disposition: attachment; filename*=shift_jis'ja'" +
     q("写真①.jpg".encode("cp932")), "写真①.jpg"),
    ("Content-Disposition: attachment; filename*0=\"very long file name \";"
     " filename*1=\"split in two.txt\"", "very long file name split in two.txt"),
    ("Content-Disposition: attachment; filename*1*=" + q("後".encode()) +
     ".txt; filename*0*=UTF-8''" + q("前".encode()), "前後.txt"),
    (b"Content-Disposition: attachment; filename=\"" + "日本語.txt".encode() + b"\"",
     "日本語.txt"),
    ("Content-Disposition: attachment; filename=\"fallback.txt\";"
     " FILENAME*=utf-8''%E6%AD%A3%E3%81%97%E3%81%84.txt", "正しい.txt"),
    ("Content-Disposition: attachment; filename=\"" +
     ew_b(jis("報告書"), "ISO-2022-JP") + ".docx\"", "報告書.docx"),
]
parts = []
exp_att = ""
for i, (hdr, want) in enumerate(names):
    parts += ["--rfc2231", "Content-Type: application/octet-stream",
              "Content-Transfer-Encoding: base64", hdr, "", b64(att)]
    exp_att += "[%d] %s (application/octet-stream, 10 B)\n" % (i + 2, want)
parts += ["--rfc2231",
          "Content-Type: application/msword;",
          " name=\"=?UTF-8?B?" + base64.b64encode("議事録.doc".encode()).decode() + "?=\"",
          "Content-Transfer-Encoding: base64", "", b64(att)]
exp_att += "[%d] 議事録.doc (application/msword, 10 B)\n" % (len(names) + 2)
add("rfc2231-names", lines(
    "Date: Sun, 8 Mar 2026 11:11:11 +0900",
    "From: files@example.jp",
    "To: hanako@example.jp",
    "Subject: file names",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=rfc2231",
    "",
    "--rfc2231",
    "Content-Type: text/plain",
    "",
    "Ten attachments with names in every encoding.",
    *parts,
    "--rfc2231--",
), "Date: Sun, 8 Mar 2026 11:11:11 +0900\n"
   "From: files@example.jp\n"
   "To: hanako@example.jp\n"
   "Subject: file names\n"
   "\n"
   "Ten attachments with names in every encoding.\n"
   "\n"
   "Attachments:\n" + exp_att)

# 7. Says ISO-8859-1, is UTF-8.
latin_body = "Grüße aus Köln — das Café ist geöffnet.\n"
add("mislabelled-latin1-utf8", lines(
    "Date: Mon, 9 Mar 2026 08:00:00 +0100",
    "From: Jürgen <juergen@example.de>".encode("utf-8"),
    "To: hanako@example.jp",
    "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=iso-8859-1",
    "Content-Transfer-Encoding: 8bit",
    "",
    latin_body.rstrip("\n").encode("utf-8"),
), "Date: Mon, 9 Mar 2026 08:00:00 +0100\n"
   "From: Jürgen <juergen@example.de>\n"
   "To: hanako@example.jp\n"
   "Subject: Grüße\n"
   "\n" + latin_body +
   "[charset: declared \"iso-8859-1\", shown as utf-8]\n")

# 8. Says Shift_JIS, is EUC-JP.
mis_body = "このメールは文字コードの宣言が間違っています。\nでも読めるはずです。\n"
add("mislabelled-sjis-eucjp", lines(
    "Date: Mon, 9 Mar 2026 12:34:56 +0900",
    "From: broken@example.jp",
    "To: hanako@example.jp",
    "Subject: =?Shift_JIS?B?" + base64.b64encode("文字化け".encode("cp932")).decode() + "?=",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=Shift_JIS",
    "Content-Transfer-Encoding: 8bit",
    "",
    crlf(mis_body).encode("euc_jp").rstrip(b"\r\n"),
), "Date: Mon, 9 Mar 2026 12:34:56 +0900\n"
   "From: broken@example.jp\n"
   "To: hanako@example.jp\n"
   "Subject: 文字化け\n"
   "\n" + mis_body +
   "[charset: declared \"shift_jis\", shown as euc-jp]\n")

# 9. format=flowed (RFC 3676): soft breaks joined, space-stuffing removed,
# quotes kept, a signature separator and a hard break respected.
flowed_raw = ("Hi Hanako, \n"
              "this paragraph was wrapped by the sender's mail client and \n"
              "should come out as one line.\n"
              "\n"
              ">> An older quote that was also \n"
              ">> wrapped.\n"
              "> A quote, \n"
              "> wrapped too.\n"
              "\n"
              " From the start of a line, space-stuffed.\n"
              "A hard break here\n"
              "and here.\n"
              "-- \n"
              "Taro \n")
flowed_view = ("Hi Hanako, this paragraph was wrapped by the sender's mail client and "
               "should come out as one line.\n"
               "\n"
               ">> An older quote that was also wrapped.\n"
               "> A quote, wrapped too.\n"
               "\n"
               "From the start of a line, space-stuffed.\n"
               "A hard break here\n"
               "and here.\n"
               "-- \n"
               "Taro \n")
add("flowed", lines(
    "Date: Tue, 10 Mar 2026 09:00:00 +0900",
    "From: Taro <taro@example.jp>",
    "To: hanako@example.jp",
    "Subject: Re: flowed text",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=UTF-8; format=flowed",
    "Content-Transfer-Encoding: 7bit",
    "",
    crlf(flowed_raw).encode().rstrip(b"\r\n"),
), "Date: Tue, 10 Mar 2026 09:00:00 +0900\n"
   "From: Taro <taro@example.jp>\n"
   "To: hanako@example.jp\n"
   "Subject: Re: flowed text\n"
   "\n" + flowed_view)

# 10. format=flowed; delsp=yes: Japanese has no spaces between words, so
# the sender added one at each soft break and the reader deletes it.
delsp_raw = ("これは長い日本語の文章で、送信側のメーラーが \n"
             "途中で折り返しました。受信側では一行に \n"
             "戻るはずです。\n"
             "二段落目。\n")
add("flowed-delsp", lines(
    "Date: Tue, 10 Mar 2026 10:00:00 +0900",
    "From: =?UTF-8?B?" + base64.b64encode("佐藤".encode()).decode() + "?= <sato@example.jp>",
    "To: hanako@example.jp",
    "Subject: =?UTF-8?B?" + base64.b64encode("折り返し".encode()).decode() + "?=",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=UTF-8; format=flowed; delsp=yes",
    "Content-Transfer-Encoding: base64",
    "",
    b64(crlf(delsp_raw).encode()),
), "Date: Tue, 10 Mar 2026 10:00:00 +0900\n"
   "From: 佐藤 <sato@example.jp>\n"
   "To: hanako@example.jp\n"
   "Subject: 折り返し\n"
   "\n"
   "これは長い日本語の文章で、送信側のメーラーが途中で折り返しました。受信側では一行に戻るはずです。\n"
   "二段落目。\n")

# 11. Quoted-printable UTF-8 by hand: a soft break inside a character,
# lower-case hex, blanks at line ends (removed), a malformed "=" kept, a
# subject whose character is split across two B words.
nihongo = "日本語".encode()
qp_src = (b"Caf=C3=A9 cr=c3=a8me br=C3=BBl=C3=A9e, soft break inside a charac=\r\n"
          b"ter: =E6=97=\r\n=A5=E6=9C=AC   \r\n"
          b"a = sign and =ZZ stay; 1+1=3D2\r\n"
          b"trailing tab\t\r\n"
          b"last line without a break=")
add("qp-utf8", lines(
    "Date: Wed, 11 Mar 2026 14:00:00 +0000",
    "From: qp@example.com",
    "To: hanako@example.jp",
    "Subject: =?UTF-8?B?" + base64.b64encode(nihongo[:4]).decode() + "?=",
    "  =?UTF-8?B?" + base64.b64encode(nihongo[4:]).decode() + "?= (split)",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=\"utf-8\"",
    "Content-Transfer-Encoding: Quoted-Printable",
    "",
    qp_src,
), "Date: Wed, 11 Mar 2026 14:00:00 +0000\n"
   "From: qp@example.com\n"
   "To: hanako@example.jp\n"
   "Subject: 日本語 (split)\n"
   "\n"
   "Café crème brûlée, soft break inside a character: 日本\n"
   "a = sign and =ZZ stay; 1+1=2\n"
   "trailing tab\n"
   "last line without a break\n")

# 12. HTML only (base64): script/style/head dropped, entities, links,
# lists, a table, pre.
html_doc = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Weekly digest</title>
<style>p { color: red; }</style>
<script>if (a < b) alert("x");</script>
</head>
<body>
<h1>Weekly&nbsp;digest</h1>
<p>Hello Hanako,<br>here is your <b>weekly</b>
summary.</p>
<ul>
  <li>Caf&eacute; opening &amp; tasting</li>
  <li>Price: 5&#8364; &lt;special&gt;</li>
  <li>Emoji: &#x1F600;</li>
</ul>
<p>Read more: <a href="https://example.com/news?id=1&amp;ref=mail">the full story</a>.</p>
<p><a href="https://example.com/">https://example.com/</a></p>
<p><img src="cid:logo" alt="Example logo"> <!-- tracking <b>pixel</b> --></p>
<table><tr><td>Name</td><td>Score</td></tr><tr><td>Taro</td><td>42</td></tr></table>
<pre>  code   block
  line 2</pre>
<p>Mail <a href="mailto:help@example.com">help@example.com</a> or <a href="#top">back to top</a>.</p>
<div>日本語のテキストも大丈夫。</div>
</body></html>
"""
add("html-only", lines(
    "Date: Thu, 12 Mar 2026 06:00:00 +0000",
    "From: Digest <digest@example.com>",
    "To: hanako@example.jp",
    "Subject: Your weekly digest",
    "MIME-Version: 1.0",
    "Content-Type: text/html; charset=UTF-8",
    "Content-Transfer-Encoding: base64",
    "",
    b64(crlf(html_doc).encode()),
), "Date: Thu, 12 Mar 2026 06:00:00 +0000\n"
   "From: Digest <digest@example.com>\n"
   "To: hanako@example.jp\n"
   "Subject: Your weekly digest\n"
   "\n"
   "Weekly digest\n"
   "\n"
   "Hello Hanako,\n"
   "here is your weekly summary.\n"
   "\n"
   "* Café opening & tasting\n"
   "* Price: 5€ <special>\n"
   "* Emoji: 😀\n"
   "\n"
   "Read more: the full story <https://example.com/news?id=1&ref=mail>.\n"
   "\n"
   "https://example.com/\n"
   "\n"
   "[Example logo]\n"
   "\n"
   "Name Score\n"
   "Taro 42\n"
   "\n"
   "  code   block\n"
   "  line 2\n"
   "\n"
   "Mail help@example.com or back to top.\n"
   "\n"
   "日本語のテキストも大丈夫。\n")

# 13. Hostile: terminal escapes raw and inside B and Q words (kept as
# decoded bytes: the sanitiser neutralises them), CR LF inside a word (shown
# as U+240D U+240A so no fake header line appears), escapes in the body and
# in an attachment name.
ESC = "\x1b"
clear = ESC + "[2J"
osc52 = ESC + "]52;c;cm0gLXJmIH4=\x07"
hostile_body = ("Look: " + ESC + "[31mred" + ESC + "[0m and a link " + ESC +
                "]8;;https://evil.example/\x07click" + ESC + "]8;;\x07\n"
                "bell\x07 and backspace\x08 stay as they are.\n")
add("hostile", lines(
    "Date: Fri, 13 Mar 2026 13:13:13 +0000",
    "From: =?UTF-8?Q?Mallory=0D=0AFrom:_boss@example.com?= <mallory@evil.example>",
    "To: hanako@example.jp",
    ("Subject: raw " + clear + osc52 + " B " +
     ew_b(clear + osc52, "UTF-8") + " Q =?UTF-8?Q?=1B[2J=1B]52;c;cm0gLXJmIH4=3D=07?= end"),
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=\"evil\"",
    "",
    "--evil",
    "Content-Type: text/plain; charset=utf-8",
    "",
    crlf(hostile_body).encode().rstrip(b"\r\n"),
    "--evil",
    "Content-Type: application/octet-stream",
    "Content-Disposition: attachment; filename*=UTF-8''%1B%5B2J..%2F..%2Fetc%2Fpasswd",
    "",
    "data",
    "--evil--",
), "Date: Fri, 13 Mar 2026 13:13:13 +0000\n"
   "From: Mallory\u240d\u240aFrom: boss@example.com <mallory@evil.example>\n"
   "To: hanako@example.jp\n"
   "Subject: raw " + clear + osc52 + " B " + clear + osc52 + " Q " + clear + osc52 +
   " end\n"
   "\n" + hostile_body + "\n"
   "Attachments:\n"
   "[2] " + clear + "../../etc/passwd (application/octet-stream, 4 B)\n")

# 14. No MIME headers at all: a raw 8-bit Shift_JIS subject, a raw UTF-8
# display name, a Shift_JIS body with no charset (guessed, and said so).
raw_body = "件名も本文も生の8ビットです。\n文字コードの指定がありません。\n"
add("raw8bit-headers", lines(
    "From Hanako-san Sat Mar 14 10:00:00 2026",
    "Date: Sat, 14 Mar 2026 10:00:00 +0900",
    b"From: " + "田中".encode("utf-8") + b" <tanaka@example.jp>",
    "To: hanako@example.jp",
    b"Subject: " + "生のヘッダーです".encode("cp932"),
    "",
    crlf(raw_body).encode("cp932").rstrip(b"\r\n"),
), "Date: Sat, 14 Mar 2026 10:00:00 +0900\n"
   "From: 田中 <tanaka@example.jp>\n"
   "To: hanako@example.jp\n"
   "Subject: 生のヘッダーです\n"
   "\n" + raw_body +
   "[charset: none declared, shown as shift_jis]\n")

# 15. Other charsets, each an inline text part: GB2312 label with a GBK
# character, Big5, EUC-KR (KS_C_5601-1987 label), UTF-16 with a BOM in
# base64, windows-1252 quotes labelled ISO-8859-1, and a UTF-7 word.
gb = "简体中文：镕\n"   # 镕 is GBK, not GB2312
big5 = "繁體中文測試\n"
kr = "한국어 테스트입니다\n"
u16 = "UTF-16 テキスト 😀\n"
w1252 = "“Smart quotes” – and … dots\n"
add("misc-charsets", lines(
    "Date: Sun, 15 Mar 2026 15:15:15 +0800",
    "From: i18n@example.cn",
    "To: hanako@example.jp",
    "Subject: =?UTF-7?Q?+ZeVnLIqe-?= =?gb2312?B?" +
    base64.b64encode("中文".encode("gb2312")).decode() + "?= =?ks_c_5601-1987?B?" +
    base64.b64encode("한국".encode("cp949")).decode() + "?=",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=cs",
    "",
    "--cs",
    "Content-Type: text/plain; charset=gb2312",
    "Content-Transfer-Encoding: 8bit",
    "",
    gb.rstrip("\n").encode("gbk"),
    "--cs",
    "Content-Type: text/plain; charset=big5",
    "Content-Transfer-Encoding: 8bit",
    "",
    big5.rstrip("\n").encode("big5"),
    "--cs",
    "Content-Type: text/plain; charset=ks_c_5601-1987",
    "Content-Transfer-Encoding: 8bit",
    "",
    kr.rstrip("\n").encode("cp949"),
    "--cs",
    "Content-Type: text/plain; charset=utf-16",
    "Content-Transfer-Encoding: base64",
    "",
    b64(crlf(u16).encode("utf-16")),
    "--cs",
    "Content-Type: text/plain; charset=ISO-8859-1",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    quopri.encodestring(w1252.rstrip("\n").encode("cp1252")),
    "--cs--",
), "Date: Sun, 15 Mar 2026 15:15:15 +0800\n"
   "From: i18n@example.cn\n"
   "To: hanako@example.jp\n"
   "Subject: 日本語中文한국\n"
   "\n" + gb + "\n" + big5 + "\n" + kr + "\n" + u16 + "\n" + w1252)

# 16. Broken structure: no close delimiter, a base64 text part with
# garbage, an unknown charset over ASCII, a multipart without a boundary
# parameter (shown as text), an attachment cut short.
broken_b64 = base64.b64encode("Decoded fine.\n".encode()).decode()
broken_b64 = broken_b64[:8] + "!!" + broken_b64[8:]
add("broken-multipart", lines(
    "Date: Mon, 16 Mar 2026 00:00:00 +0000",
    "From: broken@example.com",
    "To: hanako@example.jp",
    "Subject: =?UTF-8?B?not base64!?= and =?X-UNKNOWN?Q?plain_ascii?=",
    "MIME-Version: 1.0",
    "Content-Type: multipart/mixed; boundary=\"nb\"",
    "",
    "--nb",
    "Content-Type: text/plain; charset=x-unknown",
    "",
    "Unknown charset, but only ASCII.",
    "--nb",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    broken_b64,
    "--nb",
    "Content-Type: multipart/alternative",
    "",
    "No boundary parameter: shown as text.",
    "--nb",
    "Content-Type: application/zip; name=cut.zip",
    "Content-Transfer-Encoding: base64",
    "",
    "UEsDBAoAAAAAA",
), "Date: Mon, 16 Mar 2026 00:00:00 +0000\n"
   "From: broken@example.com\n"
   "To: hanako@example.jp\n"
   "Subject: =?UTF-8?B?not base64!?= and plain ascii\n"
   "\n"
   "Unknown charset, but only ASCII.\n"
   "\n"
   "Decoded fine.\n"
   "[transfer encoding: invalid base64 skipped]\n"
   "\n"
   "No boundary parameter: shown as text.\n"
   "\n"
   "Attachments:\n"
   "[4] cut.zip (application/zip, 9 B)\n")


def main():
    for name, (eml, expected) in sorted(CORPUS.items()):
        with open(os.path.join(HERE, name + ".eml"), "wb") as f:
            f.write(eml)
        with open(os.path.join(HERE, name + ".expected"), "wb") as f:
            f.write(expected.encode("utf-8"))
    print("wrote %d messages to %s" % (len(CORPUS), HERE))


if __name__ == "__main__":
    main()
