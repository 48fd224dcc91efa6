"""Cell text, `{name}` values and dataframes → the OpenAI `messages` list. Pure: no IPython, no I/O.

prepare.py turns a cell into messages fitted to a model's context; frames.py turns a pandas or
polars frame into text that fits a budget.
"""
