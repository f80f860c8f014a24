#!/bin/sh
# Builds Lambdabox's Java runtime interface client: every source under src/ (the client,
# package lambdabox.ric, and the aws-lambda-java-core API it serves) into one jar.
#
#   runtimes/java/build.sh [OUT_DIR]       (default: runtimes/java/build)
#
# produces OUT_DIR/lambdabox-ric.jar. Offline and quick: javac and jar from the JDK only
# ($JAVAC and $JAR override them). Class files target Java 17 (`--release 17`); a javac that
# does not support that flag compiles at its own level. String concatenation is compiled to
# StringBuilder calls, not invokedynamic, which keeps ~10 ms of bootstrap off cold starts.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
javac=${JAVAC:-javac}
jar=${JAR:-}
if [ -z "$jar" ]; then
    javac_path=$(command -v "$javac" || true)
    if [ -n "$javac_path" ] && [ -x "$(dirname "$javac_path")/jar" ]; then
        jar=$(dirname "$javac_path")/jar
    else
        jar=jar
    fi
fi

classes="$out/classes"
rm -rf "$classes"
mkdir -p "$classes"
sources="$out/sources.txt"
find "$here/src" -name '*.java' | LC_ALL=C sort > "$sources"

if ! "$javac" --release 17 -XDstringConcat=inline -encoding UTF-8 -nowarn -d "$classes" @"$sources" 2> "$out/javac.log"; then
    if grep -q -- "--release" "$out/javac.log"; then
        "$javac" -XDstringConcat=inline -encoding UTF-8 -nowarn -d "$classes" @"$sources"
    else
        cat "$out/javac.log" >&2
        exit 1
    fi
fi
rm -f "$out/javac.log"

# Stored, not deflated: the JVM maps a few dozen classes at start-up without inflating them.
rm -f "$out/lambdabox-ric.jar"
"$jar" --create --no-compress --file "$out/lambdabox-ric.jar" --main-class lambdabox.ric.Main -C "$classes" .
echo "built $out/lambdabox-ric.jar"
