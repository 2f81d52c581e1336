"""The project's command-line convention as the tests hold every command to it: bad input is one
line on stderr, `PROG: error: WHAT`, and exit 2, never a traceback (autograder/command_line.py)."""


def assert_one_line_error(prog, code, err, *phrases):
    """code and err (stderr) are prog's answer to bad input; its one line holds each of phrases."""
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    assert "Traceback" not in err
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
