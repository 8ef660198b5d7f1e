#!/bin/sh
# The structure figures the closing notes quote: the longest functions, the
# largest files, the duplicates pairs under src/ (where the library's
# `duplicates` command is on PATH) and the front end's file-level call graph
# with its cycles (tools/callgraph.py over the built objects).
# usage: tools/measure-structure.sh [REPO [BUILD]]   (needs universal-ctags)
repo=${1:-.}
build=${2:-build}
cd "$repo"
echo "== 20 longest functions (ctags end-start+1)"
ctags --c-kinds=f --fields=+ne --output-format=u-ctags -f - src/*/*.c src/*/*/*.c 2>/dev/null |
  awk -F'\t' '{name=$1; file=$2; line=""; end=""; for(i=4;i<=NF;i++){if($i~/^line:/)line=substr($i,6); if($i~/^end:/)end=substr($i,5)} if(line!=""&&end!="") printf "%5d %s %s:%s\n", end-line+1, name, file, line}' |
  sort -rn | head -20
echo "== functions over 100 lines:" $(ctags --c-kinds=f --fields=+ne --output-format=u-ctags -f - src/*/*.c src/*/*/*.c 2>/dev/null | awk -F'\t' '{for(i=4;i<=NF;i++){if($i~/^line:/)l=substr($i,6); if($i~/^end:/)e=substr($i,5)} if(e-l+1>100)n++} END{print n}')
echo "== 15 largest files (lines)"
wc -l src/*/*.c src/*/*/*.c 2>/dev/null | sort -rn | sed -n 2,16p
echo "== duplicates under src/"
command -v duplicates >/dev/null && duplicates --repo src --most 40 | head -1
echo "== src/cli call graph"
python3 "$(dirname "$0")/callgraph.py" "$build/CMakeFiles/imapsh.dir/src/cli"
