"""The `alltx` command line, kept thin: each command parses its arguments, asks the core and
hands the answer to a renderer. (This file imports nothing: importing any module of the
package runs it, and it must not run the others.)

- `app`: the group (`app`, and `main`, which the `alltx` script runs), its root options, the
  one place errors become one line and an exit status, and the commands registered;
- `base`: what every command uses (the run's settings as typer's context object, failing,
  exit statuses, formats, writing JSON);
- `options`: `options` and `ask`; `cohort`: a cohort file through `options --input`;
- `data`: `schema`, `drug`, `drugs`, `data check`, `data show`;
- `guide` and `sql`: the guide's commands and `sql`, loaded only when asked for.
"""
