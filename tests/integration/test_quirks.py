"""Provider quirks: what real servers are publicly reported to send, each
played by the scripted server and each with its source named, and imapsh
doing the right thing with it.  Where a behaviour could be seen on a server
the test bed runs (Courier-IMAP), the test says so.

The transcripts are short and written here from the reports: the lines
that matter, in the provider's shape (capabilities, texts), the rest the
fake server's usual answers."""
import base64
import os
import re

import harness as h
from test_hostile import HostileCase, greet

GMAIL_CAPS = ("IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS "
              "COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED "
              "LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584 SASL-IR AUTH=PLAIN "
              "AUTH=XOAUTH2")
O365_CAPS = ("IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN "
             "IDLE NAMESPACE LITERAL+")
YAHOO_CAPS = ("IMAP4rev1 ID MOVE NAMESPACE X-ID-ACLID UIDPLUS LITERAL+ CHILDREN "
              "XAPPLEPUSHSERVICE XYMHIGHESTMODSEQ AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2")
ICLOUD_CAPS = "IMAP4rev1 SASL-IR AUTH=PLAIN AUTH=ATOKEN ID IDLE UIDPLUS CONDSTORE ESEARCH"
PLAIN_CAPS = "IMAP4rev1 SASL-IR ID UIDPLUS AUTH=PLAIN"


def select_reply(exists=3, extra=""):
    return ("* FLAGS (\\Seen \\Deleted)\r\n* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
            "* OK [UIDNEXT 9] ok\r\n%s{tag} OK [READ-WRITE] done\r\n" % (exists, extra))


MESSAGE = ("From: Alice <alice@example.test>\r\nTo: bob@example.test\r\n"
           "Subject: hello\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
           "Message-ID: <q1@example.test>\r\n\r\nbody line\r\n")


class Quirks(HostileCase):
    def served(self, caps, rules, *cmd, **kw):
        return self.fake([greet(caps), ["serve", {"caps": caps, "rules": rules}]], *cmd, **kw)

    # -------------------------------------------------------------- Courier
    def test_courier_quota_without_resource_list(self):
        """Courier-IMAP 5 (Debian 12's courier-imap, run by this test bed with
        `testbed.py start --server courier`) answers GETQUOTAROOT with
        `* QUOTA "ROOT"`: no resource list.  imapsh once dropped the session
        and exited 3; now the root reads as "no limits", with a warning,
        and quote shows the line as sent."""
        caps = PLAIN_CAPS + " QUOTA"
        rules = [[r"(?i)^GETQUOTAROOT ",
                  '* QUOTAROOT "INBOX" "ROOT"\r\n* QUOTA "ROOT"\r\n{tag} OK done\r\n']]
        r = self.served(caps, rules, "quota", "INBOX")
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.err.decode(), r"warning: .*QUOTA response without its resource list")
        self.assertEqual(r.out, b"")  # a pipe: a root without limits has no line
        r = self.served(caps, rules, "--json", "quota", "INBOX")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b'"root":"ROOT","resources":[]', r.out.replace(b" ", b""))
        r = self.served(caps, rules, "quote", "GETQUOTAROOT INBOX")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b'* QUOTA "ROOT"', r.out)

    def test_courier_folder_names_in_errors_are_utf8(self):
        """Courier and Cyrus keep folders under `INBOX.` with names in
        modified UTF-7 (`INBOX.&ZeVnLA-` is INBOX.日本); a refused copy,
        move, select or status once showed the wire name.  Every error
        shows the name as the user typed it."""
        rules = [[r"(?i)^(SELECT|EXAMINE) INBOX$", select_reply()],
                 [r"(?i)^UID SEARCH ", "* SEARCH 5\r\n{tag} OK done\r\n"],
                 [r"(?i)^(UID )?(COPY|MOVE) ", "{tag} NO [TRYCREATE] Mailbox does not exist\r\n"],
                 [r"(?i)^(SELECT|EXAMINE|STATUS) ", "{tag} NO Mailbox does not exist\r\n"]]
        for cmd in ("select INBOX; copy 5 INBOX.日本", "select INBOX; move 5 INBOX.日本",
                    "select INBOX.日本", "status INBOX.日本"):
            with self.subTest(cmd=cmd):
                r = self.served(PLAIN_CAPS + " MOVE", rules, "-c", cmd)
                self.assertEqual(r.rc, 1, r)
                self.assertIn("INBOX.日本".encode(), r.err)
                self.assertNotIn(b"&ZeVnLA-", r.err)
                self.assertIn(b"&ZeVnLA-", r.srv.conns[0].client_bytes)

    def test_quote_shows_a_response_the_typed_grammar_refuses(self):
        """quote's job is to show what the server sent (issue: `quote
        'GETQUOTAROOT INBOX'` against Courier exited 3): even a FETCH the
        typed parser cannot read is shown, and the session goes on."""
        rules = [[r"(?i)^XFOO", "* 1 FETCH (UID x)\r\n{tag} OK done\r\n"]]
        r = self.served(PLAIN_CAPS, rules, "-c", "quote XFOO; quote NOOP")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"* 1 FETCH (UID x)", r.out)
        self.assertEqual(len(re.findall(rb"OK", r.out)), 2, r)

    # ---------------------------------------------------------------- Gmail
    def test_gmail_highestmodseq_without_text(self):
        """Gmail sends `* OK [HIGHESTMODSEQ n]` with neither the space nor
        the text the grammar requires (modern-email/defects#28,
        https://github.com/modern-email/defects/issues/28; Google's tracker
        289877509).  Yahoo does the same (the transcript in
        https://github.com/jstedfast/MailKit/issues/358)."""
        rules = [[r"(?i)^(SELECT|EXAMINE) ", select_reply(extra="* OK [HIGHESTMODSEQ 4242]\r\n")]]
        r = self.served(GMAIL_CAPS, rules, "--json", "select", "INBOX")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"4242", r.out)

    def test_gmail_extra_fetch_items_in_any_order(self):
        """Gmail adds X-GM-MSGID, X-GM-THRID and X-GM-LABELS to FETCH
        answers and orders items as it likes (Google's IMAP extensions,
        https://developers.google.com/gmail/imap/imap-extensions).  list
        reads what it asked for and leaves the rest."""
        env = ('("Mon, 7 Dec 2026 10:00:00 +0000" "hello" (("Alice" NIL "alice" "example.test")) '
               'NIL NIL NIL NIL NIL NIL "<q1@example.test>")')
        fetch = ('* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 '
                 'X-GM-LABELS ("\\\\Important" "Work/2026") FLAGS (\\Seen) '
                 'INTERNALDATE "07-Dec-2026 10:00:00 +0000" RFC822.SIZE 120 ENVELOPE %s UID 5)\r\n'
                 % env)
        rules = [[r"(?i)^(SELECT|EXAMINE) ", select_reply(1)],
                 [r"(?i)^UID SEARCH ", "* SEARCH 5\r\n{tag} OK done\r\n"],
                 [r"(?i)^(UID )?FETCH ", fetch + "{tag} OK done\r\n"]]
        r = self.served(GMAIL_CAPS, rules, "-c", "select INBOX; list")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"hello", r.out)
        self.assertIn(b"5", r.out)

    def test_gmail_special_folders_by_role(self):
        """Gmail's sent mail is `[Gmail]/Sent Mail` (`[Google Mail]/` in
        some countries), marked \\Sent by SPECIAL-USE (Google's IMAP
        extensions page, as above).  `:sent` finds it by its attribute,
        not by a name."""
        listing = ('* LIST (\\HasNoChildren) "/" "INBOX"\r\n'
                   '* LIST (\\HasChildren \\Noselect) "/" "[Gmail]"\r\n'
                   '* LIST (\\All \\HasNoChildren) "/" "[Gmail]/All Mail"\r\n'
                   '* LIST (\\HasNoChildren \\Sent) "/" "[Gmail]/Sent Mail"\r\n'
                   '* LIST (\\HasNoChildren \\Trash) "/" "[Gmail]/Trash"\r\n'
                   "{tag} OK done\r\n")
        rules = [[r"(?i)^LIST ", listing],
                 [r'(?i)^STATUS "\[Gmail\]/Sent Mail" ',
                  '* STATUS "[Gmail]/Sent Mail" (MESSAGES 12 UNSEEN 0)\r\n{tag} OK done\r\n']]
        r = self.served(GMAIL_CAPS, rules, "status", ":sent")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"12", r.out)
        self.assertRegex(r.srv.conns[0].client_bytes, rb'STATUS "\[Gmail\]/Sent Mail"')

    def test_gmail_web_login_required(self):
        """Gmail refuses a password login it wants confirmed in a browser
        with `NO [WEBALERT url] Web login required` or an [ALERT] to log in
        via the web browser (reported in many clients, e.g.
        https://github.com/jstedfast/MailKit/issues/230).  imapsh exits 5
        and shows the server's words, the URL sanitised."""
        script = [greet(GMAIL_CAPS),
                  ["command", r"AUTHENTICATE PLAIN"],
                  ["send", "{tag} NO [WEBALERT https://accounts.google.com/signin/continue?"
                           "sarp=1&scc=1\x1b[2J] Web login required.\r\n"],
                  ["serve", {"caps": GMAIL_CAPS}]]
        r = self.fake(script, "namespace")
        self.assert_fails(r, 5, r"Web login required")
        self.assert_clean(r)

    # ------------------------------------------------ Microsoft 365 / Outlook
    def test_o365_id_refused(self):
        """Exchange does not take every form of ID (modern-email/defects#13,
        https://github.com/modern-email/defects/issues/13: `ID ()` is a BAD
        there).  ID is a courtesy: a BAD to it never stops the login."""
        rules = [[r"(?i)^ID ", "{tag} BAD Command Argument Error. 11\r\n"],
                 [r"(?i)^NAMESPACE", '* NAMESPACE (("" "/")) NIL NIL\r\n{tag} OK done\r\n']]
        r = self.served(O365_CAPS, rules, "namespace")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"personal", r.out)

    def test_o365_fetch_answered_with_nothing(self):
        """Exchange answers a UID FETCH of a message it cannot convert with
        a bare `OK FETCH completed.` and no data
        (https://github.com/OfflineIMAP/offlineimap/issues/62).  imapsh says
        so and exits 1: it never writes an empty file as the message."""
        rules = [[r"(?i)^(SELECT|EXAMINE) ", select_reply()],
                 [r"(?i)^UID SEARCH ", "* SEARCH 5\r\n{tag} OK done\r\n"],
                 [r"(?i)^UID FETCH ", "{tag} OK FETCH completed.\r\n"]]
        out = os.path.join(self.work, "m.eml")
        r = self.served(O365_CAPS, rules, "fetch", "5", "-o", out)
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.err.decode(), r"5")
        self.assertFalse(os.path.exists(out))

    def test_o365_xoauth2_refused_without_a_challenge(self):
        """Microsoft 365 refuses a bad or expired token with a plain
        `NO AUTHENTICATE failed.`, no JSON challenge first (the transcripts
        in https://github.com/jstedfast/MailKit/issues/1000 and many
        like it).  imapsh exits 5 and says the token was refused."""
        script = [greet(O365_CAPS),
                  ["command", r"AUTHENTICATE XOAUTH2"],
                  ["send", "{tag} NO AUTHENTICATE failed.\r\n"],
                  ["command", r"AUTHENTICATE XOAUTH2"],
                  ["send", "{tag} NO AUTHENTICATE failed.\r\n"],
                  ["serve", {"caps": O365_CAPS}]]
        r = self.fake(script, "--auth", "xoauth2", "--oauth-token-command",
                      "echo not-a-token", "namespace", connections=1)
        self.assert_fails(r, 5, r"AUTHENTICATE failed")
        self.assertIn(b"access token was refused", r.err)

    def test_o365_bye_during_idle_then_reconnect(self):
        """Microsoft 365 ends a long IDLE with `* BYE Connection closed.`
        (https://github.com/mscdex/node-imap/issues/561, outlook.office365.com;
        "Connection closed. 14" in https://github.com/jstedfast/MailKit/issues/849).
        idle connects again with backoff, selects the folder again and
        shows the mail that came meanwhile."""
        env = ('("Mon, 7 Dec 2026 10:00:00 +0000" "while away" (("Bob" NIL "bob" '
               '"example.test")) NIL NIL NIL NIL NIL NIL NIL)')

        def script(conn):
            conn.send("* OK [CAPABILITY %s] The Microsoft Exchange IMAP4 service is ready.\r\n"
                      % O365_CAPS)
            if conn.index == 0:
                conn.serve({"caps": O365_CAPS, "until": r"(?i)^IDLE",
                            "rules": [[r"(?i)^(SELECT|EXAMINE) ", select_reply()]]})
                conn.send("+ IDLE accepted, awaiting DONE command.\r\n")
                conn.sleep(0.5)
                conn.send("* BYE Connection closed. 14\r\n")
                conn.close()
                return
            conn.serve({"caps": O365_CAPS, "rules": [
                [r"(?i)^(SELECT|EXAMINE) ", select_reply(4)],
                [r"(?i)^UID FETCH 9:\* ", "* 4 FETCH (UID 9 ENVELOPE %s)\r\n{tag} OK done\r\n"
                 % env]]})
        r = self.fake(script, "-f", "INBOX", "idle", "30", connections=2, timeout=60)
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, rb"^9\tBob\twhile away\n")
        self.assertRegex(r.err.decode(), r"idle: .*Connection closed\. 14.*connecting again in 1 s")
        self.assertEqual(len(r.srv.conns), 2)

    # ---------------------------------------------------------------- Yahoo
    def test_yahoo_inbox_listed_as_Inbox_with_empty_permanentflags(self):
        """Yahoo lists INBOX as `"Inbox"` with a \\Inbox attribute, sends
        `[PERMANENTFLAGS ()]` and a HIGHESTMODSEQ without text, and offers
        XYMHIGHESTMODSEQ instead of CONDSTORE (the transcript in
        https://github.com/jstedfast/MailKit/issues/358).  folders and
        select work; INBOX is still INBOX."""
        rules = [[r"(?i)^LIST ", '* LIST (\\Inbox \\HasNoChildren) "/" "Inbox"\r\n'
                                 '* LIST (\\HasNoChildren \\Sent) "/" "Sent"\r\n'
                                 "{tag} OK LIST completed\r\n"],
                 [r"(?i)^(SELECT|EXAMINE) ",
                  "* 23992 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
                  "* OK [UIDNEXT 333878] Predicted next UID\r\n"
                  "* FLAGS (\\Answered \\Deleted \\Draft \\Flagged \\Seen $Forwarded $Junk)\r\n"
                  "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n"
                  "* OK [HIGHESTMODSEQ 102784]\r\n"
                  "{tag} OK [READ-ONLY] EXAMINE completed; now in selected state\r\n"]]
        r = self.served(YAHOO_CAPS, rules, "-c", "folders; examine INBOX")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"Inbox", r.out)
        self.assertIn(b"23992", r.out)

    def test_yahoo_serverbug_on_search(self):
        """Yahoo sometimes answers UID SEARCH with `NO [SERVERBUG] UID SEARCH
        Server error` (https://github.com/smiley22/S22.Imap/issues/98).
        imapsh exits 1 with the server's words; nothing is taken for an
        empty result."""
        rules = [[r"(?i)^(SELECT|EXAMINE) ", select_reply()],
                 [r"(?i)^UID SEARCH ", "{tag} NO [SERVERBUG] UID SEARCH Server error\r\n"]]
        r = self.served(YAHOO_CAPS, rules, "-c", "select INBOX; search from alice")
        self.assertEqual(r.rc, 1, r)
        self.assertIn(b"Server error", r.err)
        # select's lines, and no result line for the search
        self.assertTrue(r.out.startswith(b"name\tINBOX\n"), r)
        self.assertNotRegex(r.out, rb"(?m)^\d+\t", r)

    # --------------------------------------------------------------- iCloud
    def test_icloud_body_not_rfc822(self):
        """iCloud answers `UID FETCH n (RFC822)` with OK and no message
        (modern-email/defects#36, https://github.com/modern-email/defects/issues/36).
        imapsh asks for BODY.PEEK[] and gets the message."""
        def script(conn):
            conn.send("* OK [CAPABILITY %s] ready\r\n" % ICLOUD_CAPS)
            conn.serve({"caps": ICLOUD_CAPS, "rules": [
                [r"(?i)^(SELECT|EXAMINE) ", select_reply()],
                [r"(?i)^UID SEARCH ", "* SEARCH 5\r\n{tag} OK done\r\n"],
                [r"(?i)^UID FETCH \S+ .*RFC822\b(?!\.)", "* 1 FETCH (UID 5)\r\n{tag} OK done\r\n"],
                [r"(?i)^UID FETCH ", "* 1 FETCH (UID 5 BODY[] {%d}\r\n%s)\r\n{tag} OK done\r\n"
                 % (len(MESSAGE), MESSAGE)]]})
        out = os.path.join(self.work, "m.eml")
        r = self.fake(script, "fetch", "5", "-o", out)
        self.assertEqual(r.rc, 0, r)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), MESSAGE.encode())
        self.assertNotRegex(r.srv.conns[0].client_bytes, rb"(?i)RFC822\)")

    # ---------------------------------------------------- 163.com / qq.com
    def test_status_with_trailing_space_or_empty_list(self):
        """`* STATUS INBOX (MESSAGES 0) ` with a trailing space
        (modern-email/defects#9, https://github.com/modern-email/defects/issues/9)
        and mail.163.com's `* STATUS INBOX ()` (modern-email/defects#15).
        status reads the first and says what is missing from the second."""
        r = self.served(PLAIN_CAPS, [[r"(?i)^STATUS ",
                                      "* STATUS INBOX (MESSAGES 4 UNSEEN 1) \r\n{tag} OK done\r\n"]],
                        "status", "INBOX")
        self.assertEqual(r.rc, 0, r)
        self.assertIn(b"4", r.out)
        r = self.served(PLAIN_CAPS, [[r"(?i)^STATUS ", "* STATUS INBOX ()\r\n{tag} OK done\r\n"]],
                        "status", "INBOX")
        self.assertNotIn(r.rc, (3, 7), r)
        self.assert_clean(r)

    def test_continuation_without_space(self):
        """A bare `+` continuation with no space or text
        (modern-email/defects#7, https://github.com/modern-email/defects/issues/7:
        public-inbox-imapd and others).  The login goes on."""
        def script(conn):
            conn.send("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
            conn.command(r"AUTHENTICATE PLAIN$")
            conn.send("+\r\n")
            conn.readline()
            conn.send("{tag} OK done\r\n")
            conn.serve({"caps": "IMAP4rev1 AUTH=PLAIN"})
        r = self.fake(script, "namespace")
        self.assertEqual(r.rc, 0, r)


if __name__ == "__main__":
    import unittest
    unittest.main()
