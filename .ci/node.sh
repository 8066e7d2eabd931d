# Sourced by .ci/run and the README's one-command quick start.
# Hardhat 3 needs Node >= 22.13; on an older system Node we fetch Node 22 from the npm registry
# into .tools/ (git-ignored) and put it first on PATH, because npm on Node 20 also silently skips
# Hardhat's native EDR binary and the failure only shows later as HHE27.
REQUIRED_NODE_MAJOR=22
REQUIRED_NODE_MINOR=13

node_is_recent_enough() {
  command -v node >/dev/null 2>&1 || return 1
  node -e "
    const [maj, min] = process.versions.node.split('.').map(Number);
    process.exit(maj > $REQUIRED_NODE_MAJOR || (maj === $REQUIRED_NODE_MAJOR && min >= $REQUIRED_NODE_MINOR) ? 0 : 1);
  "
}

ensure_node() {
  local tools_dir
  tools_dir="$(pwd)/.tools/node22"
  if [ -x "$tools_dir/bin/node" ]; then
    export PATH="$tools_dir/bin:$PATH"
  fi
  if node_is_recent_enough; then
    echo "Using Node $(node --version)"
    return 0
  fi
  echo "System Node $(node --version 2>/dev/null || echo none) is older than $REQUIRED_NODE_MAJOR.$REQUIRED_NODE_MINOR; installing Node $REQUIRED_NODE_MAJOR into .tools/"
  npm install -g --prefix "$tools_dir" --no-audit --no-fund "node@$REQUIRED_NODE_MAJOR"
  export PATH="$tools_dir/bin:$PATH"
  if ! node_is_recent_enough; then
    echo "error: could not provide Node >= $REQUIRED_NODE_MAJOR.$REQUIRED_NODE_MINOR (got $(node --version))" >&2
    return 1
  fi
  echo "Using Node $(node --version) from .tools/"
}
