#!/bin/sh
# Builds the Java runtime interface client and runs its tests (a plain runner: JUnit is not
# available offline). Prints "N passed, N failed" and exits non-zero on a failure.
#
#   runtimes/java/test.sh [filter]     (runs the tests whose Class.method contains filter)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
"$here/build.sh" > /dev/null
out="$here/build"
rm -rf "$out/test-classes"
mkdir -p "$out/test-classes"
find "$here/test" -name '*.java' | LC_ALL=C sort > "$out/test-sources.txt"
${JAVAC:-javac} --release 17 -encoding UTF-8 -nowarn -cp "$out/lambdabox-ric.jar" -d "$out/test-classes" @"$out/test-sources.txt"
exec ${JAVA:-java} -Dlambdabox.test.dir="$here/test" -cp "$out/lambdabox-ric.jar:$out/test-classes" lambdabox.ric.TestMain "$@"
