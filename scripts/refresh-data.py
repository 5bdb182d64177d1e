"""Write the parsed copy beside each bundled data file (data/therapies.toml.json,
data/guide.toml.json), after an edit to the file: alltx reads a bundled file from its copy
where the copy was made from the file's very text (parsing the TOML took 10 to 15 ms of a
run's 120 ms start), and from the file itself otherwise. tests/test_data_files.py fails
until it is run.

    .venv/bin/python scripts/refresh-data.py
"""

from __future__ import annotations

import json

from alltx.model.data_files import bundled_path, parsed_copy, parsed_copy_path

for name in ("therapies.toml", "guide.toml"):
    path = bundled_path(name)
    copy = parsed_copy(path.read_text(encoding="utf-8"))
    text = json.dumps(copy, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
    parsed_copy_path(path).write_text(text, encoding="utf-8")
    print(f"{parsed_copy_path(path)}: made from {path.name} ({copy['made_from_sha256'][:12]})")
