#!/usr/bin/env python3
"""Turns a `tmux capture-pane -e` dump (stdin) into a self-contained HTML page (stdout).

Handles what the TUI uses: bold, dim, reverse and the 16 colours, drawn with a fixed
palette so the PNGs look the same on every machine. (aha drops dim and loses reverse
across colour changes, which is why this exists.)"""
import html
import re
import sys

FG, BG = "#c5c8c6", "#1d1f21"
PALETTE = ["#1d1f21", "#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#c5c8c6"]
BRIGHT = ["#6f7479", "#ff7b86", "#b5e890", "#ffd68a", "#82c4ff", "#e29cf5", "#7fd6e0", "#ffffff"]
DIM = "#6f7479"


def apply(state, params):
    codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
    for c in codes:
        if c == 0:
            state.update(bold=False, dim=False, rev=False, fg=None, bg=None)
        elif c == 1:
            state["bold"] = True
        elif c == 2:
            state["dim"] = True
        elif c == 22:
            state.update(bold=False, dim=False)
        elif c == 7:
            state["rev"] = True
        elif c == 27:
            state["rev"] = False
        elif 30 <= c <= 37:
            state["fg"] = PALETTE[c - 30]
        elif 90 <= c <= 97:
            state["fg"] = BRIGHT[c - 90]
        elif c == 39:
            state["fg"] = None
        elif 40 <= c <= 47:
            state["bg"] = PALETTE[c - 40]
        elif 100 <= c <= 107:
            state["bg"] = BRIGHT[c - 100]
        elif c == 49:
            state["bg"] = None


def style(state):
    fg = state["fg"] or (DIM if state["dim"] else FG)
    bg = state["bg"] or BG
    if state["rev"]:
        fg, bg = bg, fg
    css = "color:%s" % fg
    if bg != BG:
        css += ";background:%s" % bg
    if state["bold"]:
        css += ";font-weight:bold"
    return css


def convert(text):
    state = dict(bold=False, dim=False, rev=False, fg=None, bg=None)
    out = []
    for piece in re.split(r"(\x1b\[[0-9;]*m)", text):
        m = re.fullmatch(r"\x1b\[([0-9;]*)m", piece)
        if m:
            apply(state, m.group(1))
        elif piece:
            out.append('<span style="%s">%s</span>' % (style(state), html.escape(piece)))
    return "".join(out)


body = convert(sys.stdin.read().rstrip("\n"))
print("""<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body { margin: 0; background: %s; }
pre { margin: 0; padding: 12px 14px; font: 15px/17px 'DejaVu Sans Mono', monospace; }
</style></head><body><pre>%s</pre></body></html>""" % (BG, body))
