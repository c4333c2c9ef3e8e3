#!/usr/bin/env bash
# Step 4 of the glueops action: run one glueops command; its JSON result becomes the `plan`
# output, its Markdown the job summary, and a refusal, a hold or a failure an annotation that
# says why.
set -euo pipefail

# Workflow-command escaping (the runner's rules for a message and for a property value).
escape_data() {
    local s="$1"
    s="${s//'%'/%25}"
    s="${s//$'\r'/%0D}"
    s="${s//$'\n'/%0A}"
    printf '%s' "$s"
}
escape_property() {
    local s
    s=$(escape_data "$1")
    s="${s//:/%3A}"
    s="${s//,/%2C}"
    printf '%s' "$s"
}
annotate() { # level title message
    printf '::%s title=%s::%s\n' "$1" "$(escape_property "$2")" "$(escape_data "$3")"
}

read -ra words <<< "${INPUT_COMMAND:-}"
case "${words[*]:-}" in
    sync | diff | promote | rollback | bump | drift | dora | "preview open" | "preview close" | "preview gc") ;;
    *)
        annotate error "glueops action" "command \`${INPUT_COMMAND:-}\` is not one the action runs: use sync, diff, promote, rollback, bump, drift, dora, or preview open|close|gc (glueops is on PATH for any other step)"
        exit 2
        ;;
esac
name="glueops ${words[*]}"

# `args`: words split with shell quoting, nothing expanded (xargs' rules).
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
    if ! list=$(printf '%s' "$INPUT_ARGS" | xargs -n1 printf '%s\n'); then
        annotate error "$name" "the args input does not split into words (an unmatched quote?): $INPUT_ARGS"
        exit 2
    fi
    while IFS= read -r word; do extra+=("$word"); done <<< "$list"
fi

cmd=(glueops "${words[@]}")
case "${words[0]}" in
    dora) ;;
    *) cmd+=(--config "${INPUT_CONFIG:-.}") ;;
esac
if [ -n "${INPUT_MANIFESTS:-}" ]; then
    case "${words[0]}" in
        diff) ;;
        *) cmd+=(--manifests "$INPUT_MANIFESTS") ;;
    esac
fi

work="${RUNNER_TEMP:-/tmp}/glueops-action"
mkdir -p "$work"
plan=$(mktemp "$work/plan.XXXXXX")
outputs=$(mktemp "$work/outputs.XXXXXX")
errors=$(mktemp "$work/stderr.XXXXXX")
summary="${GITHUB_STEP_SUMMARY:-$work/summary.md}"

echo "$name"
set +e
"${cmd[@]}" ${extra[@]+"${extra[@]}"} --json --summary "$summary" --outputs "$outputs" > "$plan" 2> "$errors"
code=$?
set -e
cat "$errors" >&2
echo "::group::$name: the JSON result ($plan)"
cat "$plan"
echo
echo "::endgroup::"

# The command's outputs: name=value, or name<<DELIMITER ... DELIMITER (bash 3.2 has no
# associative arrays: one out_<name> variable each).
out_result="" out_changed="" out_commit="" out_reason="" out_held=""
keep() {
    case "$1" in
        result | changed | commit | reason | held) printf -v "out_$1" '%s' "$2" ;;
    esac
}
while IFS= read -r line; do
    if [[ "$line" == *"<<"* && "$line" != *"="* ]]; then
        delimiter="${line#*<<}"
        value=""
        first=1
        while IFS= read -r next && [ "$next" != "$delimiter" ]; do
            if [ "$first" = 1 ]; then value="$next"; first=0; else value+=$'\n'"$next"; fi
        done
        keep "${line%%<<*}" "$value"
    elif [[ "$line" == *"="* ]]; then
        keep "${line%%=*}" "${line#*=}"
    fi
done < "$outputs"
if [ "$code" != 0 ] && [ "$code" != 3 ] && [ "$code" != 4 ]; then
    out_result=error
fi
{
    echo "result=${out_result:-error}"
    echo "changed=${out_changed:-false}"
    echo "commit=$out_commit"
    echo "plan=$plan"
    echo "exit-code=$code"
} >> "$GITHUB_OUTPUT"

# Held deployments (a sync goes on without them): one warning each, naming the rule.
if [ -n "$out_held" ]; then
    while IFS= read -r held; do
        annotate warning "$name: held" "$held"
    done <<< "$out_held"
fi

case "$code" in
    0) ;;
    3)
        reason="${out_reason:-refused by a rule}"
        if [ "${INPUT_FAIL_ON_REFUSAL:-true}" = "true" ]; then
            annotate error "$name: refused" "$reason"
            exit 3
        fi
        annotate warning "$name: refused" "$reason"
        ;;
    4)
        annotate error "$name: drift" "${out_reason:-the manifest branch differs from a fresh render}"
        exit 4
        ;;
    *)
        message=$(head -c 4000 "$errors")
        annotate error "$name failed (exit $code)" "${message:-glueops exited with $code}"
        exit "$code"
        ;;
esac
