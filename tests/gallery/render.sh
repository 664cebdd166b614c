#!/usr/bin/env bash
# The gallery (docs/gallery/*.png): what lockwatch posts on a pull request, rendered the way
# GitHub renders a comment -- GitHub-flavoured Markdown (cmark-gfm, GitHub's extensions),
# GitHub's Markdown stylesheet (npm package github-markdown-css), 900 px wide, in headless
# Chromium. The comments are the snapshots of tests/tests/render.rs (tests/snapshots/*.md),
# so the gallery shows exactly what the render test checks.
#
#   bash tests/gallery/render.sh            # all gallery reviews
#   bash tests/gallery/render.sh hostile    # one
#
# Needs cmark-gfm, chromium (Debian packages; installed when missing and run as root), npm.
set -euo pipefail
cd "$(dirname "$0")/../.."

reviews=("$@")
[ ${#reviews[@]} -gt 0 ] || reviews=(arrayref bump-400 fixes-advisory hostile)
out=docs/gallery
css_version=5.9.0
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
width=900

need() { # command package
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
  else
    echo "render.sh: $1 is missing (Debian package $2)" >&2
    exit 1
  fi
}
need cmark-gfm cmark-gfm
need chromium chromium
fc-list | grep -qi "color emoji" || need fc-list fonts-noto-color-emoji
[ "$(id -u)" != 0 ] || dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-color-emoji >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "github-markdown-css@$css_version" >/dev/null && tar xzf "github-markdown-css-$css_version.tgz")
css="$work/package/github-markdown-light.css"

chrome() { # extra chromium arguments...
  chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --disable-component-update --disable-sync --hide-scrollbars \
    --user-data-dir="$(mktemp -d -p "$work")" "$@" 2>/dev/null
}

mkdir -p "$out"
for name in "${reviews[@]}"; do
  md="tests/snapshots/$name.md"
  html="$work/$name.html"
  # GitHub turns `> [!CAUTION]` quotes into alerts; cmark-gfm does not know them.
  sed "s/lockwatch VERSION/lockwatch $version/" "$md" \
    | cmark-gfm --unsafe -e table -e autolink -e strikethrough -e tagfilter -e tasklist \
    | python3 -c '
import re, sys
html = sys.stdin.read()
def alert(m):
    kind = m.group(1).lower()
    return ("<div class=\"markdown-alert markdown-alert-%s\"><p class=\"markdown-alert-title\">%s</p><p>"
            % (kind, kind.capitalize()))
html = re.sub(r"<blockquote>\s*<p>\[!(CAUTION|WARNING|NOTE|TIP|IMPORTANT)\]\s*", alert, html)
# close the alert divs: each converted blockquote ends at its </blockquote>
out, depth = [], []
for part in re.split(r"(<div class=\"markdown-alert[^>]*>|<blockquote>|</blockquote>)", html):
    if part.startswith("<div class=\"markdown-alert"):
        depth.append("div"); out.append(part)
    elif part == "<blockquote>":
        depth.append("bq"); out.append(part)
    elif part == "</blockquote>":
        out.append("</div>" if depth and depth.pop() == "div" else part)
    else:
        out.append(part)
sys.stdout.write("".join(out))
' >"$work/$name.body.html"
  {
    printf '<!doctype html><html><head><meta charset="utf-8"><style>\n'
    cat "$css"
    cat <<CSS
body { margin: 0; background: #fff; }
.comment { width: ${width}px; box-sizing: border-box; margin: 16px; border: 1px solid #d1d9e0; border-radius: 6px; }
.comment-header { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px; font: 14px -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #59636e; border-radius: 6px 6px 0 0; }
.comment-header b { color: #1f2328; }
.markdown-body { padding: 16px; font-family: -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; }
.markdown-alert { padding: 0.5rem 1rem; margin-bottom: 16px; border-left: .25em solid #d1d9e0; }
.markdown-alert > :last-child { margin-bottom: 0; }
.markdown-alert-title { font-weight: 500; display: flex; align-items: center; line-height: 1; }
.markdown-alert-caution { border-left-color: #cf222e; } .markdown-alert-caution .markdown-alert-title { color: #d1242f; }
.markdown-alert-warning { border-left-color: #9a6700; } .markdown-alert-warning .markdown-alert-title { color: #9a6700; }
.markdown-alert-note { border-left-color: #0969da; } .markdown-alert-note .markdown-alert-title { color: #0969da; }
CSS
    printf '</style></head><body><div class="comment"><div class="comment-header"><b>lockwatch</b> <span>bot</span> commented</div><article class="markdown-body">\n'
    cat "$work/$name.body.html"
    printf '</article></div>\n<script>document.title = "height:" + Math.ceil(document.querySelector(".comment").getBoundingClientRect().bottom)</script></body></html>\n'
  } >"$html"
  # First pass: the page's height; second pass: the screenshot of the whole page.
  height=$(chrome --window-size="$((width + 32)),800" --dump-dom "file://$html" \
    | sed -n 's/.*<title>height:\([0-9]*\)<\/title>.*/\1/p' | head -1)
  height=${height:-2000}
  chrome --window-size="$((width + 32)),$((height + 16))" --screenshot="$out/$name.png" "file://$html"
  echo "$out/$name.png (${height}px)"
done
