#!/usr/bin/env bash
# Step 1 of the glueops action: where the binary for this checkout of the action is kept, and
# the cache key of that folder: the glueops version, the profile, and a hash of everything the
# binary is built from (so a branch or a local `uses: ./` never runs a stale build).
set -euo pipefail
root="${GITHUB_ACTION_PATH:?the runner sets GITHUB_ACTION_PATH}"
profile="${INPUT_PROFILE:-release}"

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)
if [ -z "$version" ]; then
    echo "::error title=glueops action::cannot read the version from $root/Cargo.toml"
    exit 1
fi
# The sources of the binary: manifests, the lock file, and every file under the crates'
# src/ and the schema (tests, fixtures and build output are left out).
sources=$(cd "$root" && find Cargo.toml Cargo.lock src schema crates \
    \( -name target -o -name tests -o -name fixtures -o -name snapshots \) -prune \
    -o -type f \( -name '*.rs' -o -name 'Cargo.toml' -o -name '*.json' -o -name '*.yaml' \) -print \
    | LC_ALL=C sort)
hash=$(cd "$root" && printf '%s\n' "$sources" | tr '\n' '\0' | xargs -0 sha256sum | sha256sum | cut -c1-16)

os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
key="glueops-$os-$arch-$version-$profile-$hash"
dir="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/glueops/$version-$profile-$hash"
{
    echo "key=$key"
    echo "dir=$dir"
    echo "version=$version"
} >> "$GITHUB_OUTPUT"
echo "glueops $version ($profile build, sources $hash) is kept in $dir"
