"""Assessment: one patient's facts against the data's rules (a status per therapy and per
referral, a grade on a scale, the next question to ask). Pure: no I/O, no rich, no typer; it
reads the facts and the rules below it and the data's entities (alltx.model)."""
