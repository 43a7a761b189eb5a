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
# The pinned Node carries its own CA list; let it also trust the system's
# (a proxy's or a company's CA added with update-ca-certificates), as
# Debian's own node and curl do.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
	NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
	export NODE_EXTRA_CA_CERTS
fi
# No prompts, no update or funding banners from npm in scripts.
NPM_CONFIG_UPDATE_NOTIFIER=false
NPM_CONFIG_FUND=false
NPM_CONFIG_AUDIT=false
export NPM_CONFIG_UPDATE_NOTIFIER NPM_CONFIG_FUND NPM_CONFIG_AUDIT
