#!/usr/bin/env bash
# Step 3 of the glueops action (after the cache restore): build the glueops binary from the
# action's own checkout unless the folder already holds it, and put it on PATH.
set -euo pipefail
root="${GITHUB_ACTION_PATH:?the runner sets GITHUB_ACTION_PATH}"
dir="${GLUEOPS_INSTALL_DIR:?step key sets the install folder}"
profile="${INPUT_PROFILE:-release}"
bin="$dir/glueops"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
    echo "glueops: cached build $bin"
else
    if ! command -v cargo >/dev/null 2>&1; then
        echo "::error title=glueops action::cargo is not on PATH and no cached build matches; add a Rust toolchain step (e.g. dtolnay/rust-toolchain@stable) before this action"
        exit 1
    fi
    case "$profile" in
        dev) out=debug ;;
        *) out="$profile" ;;
    esac
    target="${CARGO_TARGET_DIR:-${RUNNER_TEMP:-/tmp}/glueops-target}"
    echo "glueops: building from $root (profile $profile, target $target)"
    CARGO_TARGET_DIR="$target" cargo build --locked --profile "$profile" \
        -p glueops-cli --manifest-path "$root/Cargo.toml"
    mkdir -p "$dir"
    # Copied beside, then renamed: a cancelled job never leaves half a binary in the cache.
    cp "$target/$out/glueops" "$dir/.glueops.partial.$$"
    mv -f "$dir/.glueops.partial.$$" "$bin"
fi
echo "$dir" >> "$GITHUB_PATH"
echo "path=$bin" >> "$GITHUB_OUTPUT"
"$bin" --version
