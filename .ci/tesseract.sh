# shellcheck shell=bash
# Sourced by .ci/run: makes Tesseract with its Simplified Chinese and English models available
# to the screenshot tests (internal/ocr, cmd/bot TestScreenshots_*), which skip, saying so,
# when there is none.
#
#   - tesseract on PATH listing chi_sim and eng: used as it is.
#   - Otherwise, as root with apt-get: apt-get update (once, shared with chromium.sh), then
#     apt-get install -y tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng.
#   - Otherwise (not root, no apt-get, or the install fails): says so and goes on; the
#     screenshot tests then skip and everything else runs.

bot_ci_tesseract_log() { echo "tesseract.sh: $*" >&2; }

# bot_ci_apt_update: apt-get update, at most once per .ci/run (chromium.sh may have run it).
if ! declare -F bot_ci_apt_update >/dev/null; then
  bot_ci_apt_update() {
    if [ -z "${bot_ci_apt_updated:-}" ]; then
      apt-get update -qq && bot_ci_apt_updated=1
    fi
  }
fi

bot_ci_tesseract_ready() {
  command -v tesseract >/dev/null 2>&1 || return 1
  local langs
  langs=$(tesseract --list-langs 2>&1) || return 1
  grep -qx chi_sim <<<"$langs" && grep -qx eng <<<"$langs"
}

bot_ci_tesseract() {
  if bot_ci_tesseract_ready; then
    bot_ci_tesseract_log "using $(command -v tesseract) with chi_sim and eng"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    bot_ci_tesseract_log "tesseract with chi_sim and eng is not installed and installing it needs root: the screenshot tests will skip"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    bot_ci_tesseract_log "tesseract with chi_sim and eng is not installed and there is no apt-get: the screenshot tests will skip"
    return
  fi
  bot_ci_tesseract_log "installing tesseract-ocr, tesseract-ocr-chi-sim and tesseract-ocr-eng with apt-get"
  if bot_ci_apt_update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng >/dev/null \
    && bot_ci_tesseract_ready; then
    bot_ci_tesseract_log "installed $(command -v tesseract)"
  else
    bot_ci_tesseract_log "installing tesseract failed: the screenshot tests will skip"
  fi
}

bot_ci_tesseract
