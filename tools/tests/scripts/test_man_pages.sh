#!/bin/bash
# Man pages (docs/man/*.pod): valid POD, render with pod2man, and xl(1) documents every
# subcommand xl has.
. "$(dirname "$0")/local.inc"
for f in "$ROOT"/docs/man/*.pod; do
    check "podchecker $(basename "$f")" podchecker -warnings "$f" 2>/dev/null
    check "pod2man renders $(basename "$f")" bash -c "pod2man '$f' | grep -q '^.SH'"
done
for c in $("$XL" -h | awk '/^ [a-z]/ {print $1}'); do
    check "xl.1 documents 'xl $c'" grep -q "^=item B<$c>" "$ROOT/docs/man/xl.1.pod"
done
exit $((FAILS > 0))
