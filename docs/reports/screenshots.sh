#!/usr/bin/env bash
# Rebuild the report samples and screenshots in this folder (docs/reports.md links them).
# Needs LibreOffice and poppler: apt-get install --no-install-recommends libreoffice-calc-nogui
# poppler-utils fonts-crosextra-carlito (Carlito stands in for Calibri, the workbook's font).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/reports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
.venv/bin/python bench/workbook.py --tasks 58 --repeat 1 --samples "$out" >/dev/null
soffice --headless --norestore "-env:UserInstallation=file://$tmp/profile" \
  --convert-to pdf --outdir "$tmp" "$out/sample-report.xlsx" >/dev/null 2>&1
pdf="$tmp/sample-report.pdf"
pages=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
# page 1: summary (A4); page 2: tasks (A3, top rows); last page: after action (A4)
pdftoppm -png -r 110 -f 1 -l 1 -x 80 -y 105 -W 1140 -H 420 "$pdf" "$tmp/summary"
pdftoppm -png -r 100 -f 2 -l 2 -x 60 -y 95 -W 1560 -H 560 "$pdf" "$tmp/tasks"
pdftoppm -png -r 110 -f "$pages" -l "$pages" -x 80 -y 105 -W 1140 -H 720 "$pdf" "$tmp/aar"
.venv/bin/python - "$tmp" "$out" <<'EOF'
import sys
from pathlib import Path

from PIL import Image

tmp, out = Path(sys.argv[1]), Path(sys.argv[2])
for prefix, name in (("summary", "workbook-summary.png"), ("tasks", "workbook-tasks.png"),
                     ("aar", "workbook-after-action.png")):
    src = next(tmp.glob(f"{prefix}-*.png"))
    img = Image.open(src).convert("RGB").quantize(colors=96, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)
    img.save(out / name, optimize=True)
    print(out / name, (out / name).stat().st_size, "bytes")
EOF
