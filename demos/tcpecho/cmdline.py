"""Command-line parsing shared by the echo demo's server and client.

`tornado.options` wants ``--port=9888``; people also type ``--port 9888``.
This accepts both, then lets `tornado.options` do the rest.
"""

import sys

from tornado.options import options, parse_command_line


def parse_args(argv: "list[str] | None" = None) -> list[str]:
    """Parses the command line into `tornado.options.options`; returns the
    arguments that are not options."""
    args = list(sys.argv if argv is None else argv)
    joined = args[:1]
    i = 1
    while i < len(args):
        arg = args[i]
        name = arg.lstrip("-").replace("-", "_")
        takes_value = (
            arg.startswith("--")
            and "=" not in arg
            and name in options
            # Flags (bool options) stand alone.
            and not isinstance(options[name], bool)
        )
        if takes_value and i + 1 < len(args):
            joined.append(f"{arg}={args[i + 1]}")
            i += 2
        else:
            joined.append(arg)
            i += 1
    return parse_command_line(joined)
