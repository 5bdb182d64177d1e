"""The `alltx` command line, kept thin: each command parses its arguments, asks the core and
hands the answer to a renderer. (This file imports no module of alltx: importing any
module of the package runs it, and it must not run the others.)

- `app`: the group (`app`, and `main`, which the `alltx` script runs), its root options, the
  one place errors become one line and an exit status, and the commands registered;
- `base`: what every command uses (the run's settings as typer's context object, failing,
  exit statuses, formats, writing JSON);
- `options`: `options` and `ask`; `cohort`: a cohort file through `options --input`;
- `data`: `schema`, `drug`, `drugs`, `data check`, `data show`;
- `guide` and `sql`: the guide's commands and `sql`, loaded only when asked for.
"""

import os
import signal
import sys

# Ctrl-C while the modules load, before `main` takes the signals, ends alltx as the system ends
# a program, with no traceback: Python's own handler raises KeyboardInterrupt wherever it lands
# (a loaded machine's CI caught one inside a regular expression's compiling). Only where alltx
# is the program run, not where a test or a notebook imports the package.
_RUN = sys.argv[0].replace("\\", "/") if sys.argv else ""
if os.path.basename(_RUN) == "alltx" or _RUN.endswith("alltx/__main__.py"):
    signal.signal(signal.SIGINT, signal.SIG_DFL)
