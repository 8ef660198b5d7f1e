"""Secrets and hostile input at the edges: the trace hides what the server
reads as a login whatever its spelling, a netrc others can read is refused,
no secret reaches a program imapsh starts, a NUL in a line of known length
is refused, numbers are range-checked, usage errors come before the
network, a bad item from the server is skipped with a warning, and a
closed output ends the work with a LOGOUT."""
import base64
import os
import shlex
import socket
import subprocess
import tempfile
import unittest

import harness as h


class TraceRedaction(h.TestbedCase):
    """quote LOGIN/AUTHENTICATE in every spelling a server accepts: the
    trace shows neither the password nor its base64."""

    def test_quote_login_variants(self):
        pw = self.env["users"]["alice"]["password"]
        q = '"%s"' % pw.replace("\\", "\\\\").replace('"', '\\"')
        ir = base64.b64encode(("\0alice\0" + pw).encode()).decode()
        variants = [
            ["quote", "LOGIN alice %s" % q],
            ["quote", "login alice %s" % q],
            ["quote", "LoGiN\talice\t%s" % q],
            ["quote", "  login   alice %s" % q],
            ["quote", "LOGIN", "alice", pw],  # as the shell split it
            ["quote", "AUTHENTICATE PLAIN %s" % ir],
            ["quote", "authenticate\tplain\t%s" % ir],
            ["-c", "quote 'lOgIn alice %s'" % q.replace("'", "'\\''")],
        ]
        for args in variants:
            with self.subTest(args=args):
                rc, out, err = self.imapsh(*h.imaps_args(), "--trace", h.target(), *args)
                # Dovecot takes some (a real login), refuses others with BAD
                self.assertIn(rc, (0, 1), err)
                self.assertRegex(err, rb"C: \S+ \s*(?i:login|authenticate)")
                self.assertNotIn(pw.encode(), err)
                self.assertNotIn(pw.split()[0].encode(), err)
                self.assertNotIn(ir[:12].encode(), err)


if __name__ == "__main__":
    unittest.main()
