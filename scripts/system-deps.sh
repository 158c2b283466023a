#!/usr/bin/env bash
# Installs the system programs drawdown uses when they are missing: Chromium (PDF printing and
# HTML screenshots without Quarto), poppler-utils (pdftoppm, pdftotext and pdffonts, for looking at
# PDFs), Liberation Sans and DejaVu Sans (the reports' fonts: the Typst template and the pages ask
# for them), PostgreSQL (the database source's tests) and a Java runtime (openjdk-17-jre-headless)
# when the Spark extra is installed. Debian/Ubuntu only; elsewhere it says what to install. Quarto
# is not a Debian package: `make quarto` says how to install it.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
has_font() { fc-list 2>/dev/null | grep -qi "$1" || compgen -G "/usr/share/fonts/truetype/*/$2" >/dev/null; }
has_font 'Liberation Sans' 'LiberationSans-Regular.ttf' || missing+=(fonts-liberation)
has_font 'DejaVu Sans' 'DejaVuSans.ttf' || missing+=(fonts-dejavu-core)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
# Spark (the drawdown[spark] extra, docs/scale.md#spark) runs on a Java runtime.
if [[ -x .venv/bin/python ]] && .venv/bin/python -c "import pyspark" >/dev/null 2>&1; then
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
fi
((${#missing[@]})) || exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "drawdown: please install ${missing[*]} with your system's package manager" >&2
  exit 0
fi
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
echo "drawdown: installing ${missing[*]} (Debian packages)" >&2
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
