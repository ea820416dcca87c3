#!/usr/bin/env bash
# Checks that docs/api.md shows each example as it is: every block introduced by a line
# "<!-- example: examples/api/NAME.cc -->" must equal that file, and every example must be shown.
set -euo pipefail
doc=docs/api.md
failed=0
shown=()
while IFS= read -r file; do
  shown+=("$file")
  block=$(awk -v marker="<!-- example: $file -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$doc")
  if [ "$block" != "$(cat "$file")" ]; then
    echo "api_doc_test: the block of $file in $doc differs from the file:"
    diff <(printf '%s\n' "$block") "$file" | head -20 || true
    failed=1
  fi
done < <(sed -n 's/^<!-- example: \(.*\) -->$/\1/p' "$doc")
for f in examples/api/*.cc; do
  case " ${shown[*]} " in *" $f "*) ;; *) echo "api_doc_test: $f is not shown in $doc"; failed=1 ;; esac
done
[ "$failed" -eq 0 ] && echo "api_doc_test: ${#shown[@]} examples match $doc"
exit "$failed"
