"""What a cell shows, with no network and no IPython shell: markdown rendered safely, the live
view that streams an answer, the footer and notices, tables, and the sinks they draw into.

protocols.py holds the wing's protocols and Literal aliases; the other modules import it.
"""
