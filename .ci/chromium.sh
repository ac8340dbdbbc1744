# shellcheck shell=bash
# Sourced by .ci/run: makes Debian's chromium available to the dashboard's browser test
# (TestDashboard_Browser in cmd/bot), which skips, saying so, when there is none.
#
#   - chromium on PATH, or /usr/bin/chromium: used as it is.
#   - Otherwise, as root with apt-get: apt-get update (once), apt-get install -y chromium.
#   - Otherwise (not root, no apt-get, or the install fails): says so and goes on; the
#     browser test then skips and everything else runs.

bot_ci_chromium_log() { echo "chromium.sh: $*" >&2; }

# bot_ci_apt_update: apt-get update, at most once per .ci/run.
bot_ci_apt_update() {
  if [ -z "${bot_ci_apt_updated:-}" ]; then
    apt-get update -qq && bot_ci_apt_updated=1
  fi
}

bot_ci_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    bot_ci_chromium_log "using $(command -v chromium)"
    return
  fi
  if [ -x /usr/bin/chromium ]; then
    bot_ci_chromium_log "using /usr/bin/chromium"
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    bot_ci_chromium_log "chromium is not installed and installing it needs root: the dashboard's browser test will skip"
    return
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    bot_ci_chromium_log "chromium is not installed and there is no apt-get: the dashboard's browser test will skip"
    return
  fi
  bot_ci_chromium_log "installing chromium with apt-get"
  if bot_ci_apt_update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    bot_ci_chromium_log "installed $(command -v chromium || echo chromium)"
  else
    bot_ci_chromium_log "installing chromium failed: the dashboard's browser test will skip"
  fi
}

bot_ci_chromium
