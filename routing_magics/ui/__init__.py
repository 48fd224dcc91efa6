"""The shells: `%%route` / `%route` (magics.py, subcommands in commands.py) and the widget panel
(panel.py). Both are thin over run.run_prompt and the Session."""
