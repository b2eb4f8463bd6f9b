#!/usr/bin/env bash
# Installs GitHub's official REST OpenAPI description (@octokit/openapi), its GraphQL schema
# (@octokit/graphql-schema), a JSON Schema validator (ajv) and the GraphQL reference implementation
# into .cache/openapi, for the test that checks every request the binary sends to GitHub.
# Idempotent; prints the node_modules directory.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/npm-cache.sh
dir=.cache/openapi
npm_cache "$dir" @octokit/openapi@23.0.2 ajv@8.20.0 ajv-formats@3.0.1 @octokit/graphql-schema@15.26.1 graphql@16.15.0
echo "$PWD/$dir/node_modules"
