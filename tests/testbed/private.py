"""Files of the test bed's own where a child would otherwise be given
/dev/null: the test bed and the tests never use the system's device nodes.

    stdin=private.empty_input(d)     an empty file in d: end of file at once
    stdout=private.discard(d)        output nobody reads, kept in d
"""
import os


def empty_input(d):
    path = os.path.join(d, "empty-input")
    open(path, "ab").close()
    return open(path, "rb")


def discard(d):
    return open(os.path.join(d, "discarded-output.log"), "ab")
