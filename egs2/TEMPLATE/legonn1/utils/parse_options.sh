# Parse "--name value" options into the variables of the script that sources this file.
#
# Source it after the script has set its defaults (a comment on the line is its help):
#     stage=1   # first stage to run
#     nj=4      # number of parallel jobs
#     . utils/parse_options.sh
#
# --foo-bar VALUE, --foo_bar VALUE and --foo_bar=VALUE set foo_bar=VALUE, but only if
# foo_bar is already defined, so that a typo stops the script instead of being ignored.
# --config FILE sources FILE (name=value lines).  --help prints the script's header
# comment and its options with their current values.  Parsing stops at the first
# argument that is not an option (or after "--"); the rest stay in "$@".

_po_script=${BASH_SOURCE[1]:-$0}

_po_options() {
  # The options are the variables the script sets before sourcing this file:
  # prints "name<TAB>comment" per option.
  awk '/parse_options\.sh/ { exit }
       /^[A-Za-z_][A-Za-z0-9_]*=/ {
         name = $0; sub(/=.*/, "", name)
         comment = ""; if (match($0, /[ \t]#.*/)) comment = substr($0, RSTART + 1)
         if (!seen[name]++) print name "\t" comment
       }' "$_po_script"
}

_po_help() {
  # The header is the block of comment lines right after the shebang.
  awk 'NR == 1 && /^#!/ { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$_po_script"
  echo
  echo "Options (current value):"
  local name comment
  while IFS=$'\t' read -r name comment; do
    printf '  --%-28s %s\n' "$name ${!name-}" "$comment"
  done < <(_po_options)
}

_po_fail() {
  echo "$(basename "$_po_script"): $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --help | -h)
      _po_help
      exit 0
      ;;
    --)
      shift
      break
      ;;
    --*=*)
      # Rewrite "--name=value" as "--name value" and parse it again.
      _po_value=${1#*=}
      _po_name=${1%%=*}
      shift
      set -- "$_po_name" "$_po_value" "$@"
      ;;
    --config)
      [ $# -ge 2 ] && [ -f "$2" ] || _po_fail "--config needs an existing file, got '${2-}'"
      . "$2"
      shift 2
      ;;
    --*)
      _po_name=${1#--}
      _po_name=${_po_name//-/_}
      if ! [[ $_po_name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || ! declare -p "$_po_name" > /dev/null 2>&1; then
        _po_fail "unknown option --$_po_name; valid options:" \
          "$(_po_options | cut -f1 | sed 's/^/--/' | tr '\n' ' ')(--help shows them with their values)"
      fi
      [ $# -ge 2 ] || _po_fail "option $1 needs a value"
      printf -v "$_po_name" '%s' "$2"
      shift 2
      ;;
    *)
      break
      ;;
  esac
done

unset -f _po_options _po_help _po_fail
unset _po_script _po_name _po_value
