#!/usr/bin/env bash
# Rebuild docs/reports/sample-report.docx and its first page as PNG (README links the image).
# Needs LibreOffice and poppler: apt-get install libreoffice-writer poppler-utils fonts-liberation
# (Liberation Serif stands in for Times New Roman, metric for metric). Tests do not need any of it.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/reports
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DUTYBOT_STORAGE__URL="sqlite:///$tmp/demo.db"
printf '/quit\n' | ./run chat >/dev/null          # the demo event: a third of its duties past, some late, blocked
./run export 1 --format docx --out "$out/sample-report.docx"
soffice --headless --norestore "-env:UserInstallation=file://$tmp/profile" \
  --convert-to pdf --outdir "$tmp" "$out/sample-report.docx" >/dev/null 2>&1
pdftoppm -png -r 80 -f 1 -l 1 "$tmp/sample-report.pdf" "$tmp/page"
.venv/bin/python - "$tmp" "$out" <<'PY'
import sys
from pathlib import Path

from PIL import Image

tmp, out = Path(sys.argv[1]), Path(sys.argv[2])
img = Image.open(next(tmp.glob("page-*.png"))).convert("RGB")
img = img.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
img.save(out / "report-docx-page1.png", optimize=True)
print(out / "report-docx-page1.png", (out / "report-docx-page1.png").stat().st_size, "bytes")
PY
