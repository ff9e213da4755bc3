#!/bin/sh
# Rebuilds card.pdf from card.roff with groff's PDF output (gropdf).
# Needs: groff (Debian package `groff`). Run from this directory.
set -eu
groff -Tpdf -P-pletter card.roff > card.pdf
