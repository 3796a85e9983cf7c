# Prints the production lines of the Rust files given: everything but `#[cfg(test)]` items
# (a test module, a test-only function or import). rustfmt closes a top-level item with `}`
# in column 0, and indents nested ones, so an item ends at the first line that closes at its
# own indentation. Each printed line is prefixed with its file name and a tab.
FNR == 1 { skip = 0; pending = 0 }
skip {
    if ($0 ~ ("^" indent "}")) skip = 0
    next
}
pending {
    pending = 0
    match($0, /^[ ]*/); indent = substr($0, 1, RLENGTH)
    if ($0 ~ /^[ ]*#\[/) { pending = 1; next }          # more attributes on the same item
    if ($0 ~ /;[ ]*$/) next                              # `mod tests;`, a `use`
    if ($0 ~ /\{[ ]*$/) { skip = 1; next }
    next
}
/^[ ]*#\[cfg\(test\)\]/ { pending = 1; next }
{ print FILENAME "\t" $0 }
