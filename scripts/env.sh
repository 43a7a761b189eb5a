# Sourced (not run) by run.sh, test.sh, the Makefile's recipes and the helper
# scripts after scripts/setup.sh: puts the pinned Node and its npm first on
# PATH. POSIX sh. The caller sets GPIX_ROOT to the repository root.
: "${GPIX_ROOT:?set GPIX_ROOT to the repository root before sourcing scripts/env.sh}"
. "$GPIX_ROOT/scripts/versions.env"
GPIX_TOOLS="$GPIX_ROOT/.tools"
GPIX_NODE_BIN="$GPIX_TOOLS/node/node_modules/.bin"
case ":$PATH:" in
*":$GPIX_NODE_BIN:"*) ;;
*) PATH="$GPIX_NODE_BIN:$PATH" ;;
esac
export PATH GPIX_ROOT GPIX_TOOLS GPIX_NODE_BIN
# No prompts, no update or funding banners from npm in scripts.
NPM_CONFIG_UPDATE_NOTIFIER=false
NPM_CONFIG_FUND=false
NPM_CONFIG_AUDIT=false
export NPM_CONFIG_UPDATE_NOTIFIER NPM_CONFIG_FUND NPM_CONFIG_AUDIT
